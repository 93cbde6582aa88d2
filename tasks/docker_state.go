package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// dockerSocket is the path of dockerd's API socket in its default configuration. Tests
// point it elsewhere.
var dockerSocket = "/var/run/docker.sock"

// httpStatusMark starts the line that curl writes after each response it prints, with
// the response's HTTP status, or 000 when it got none.
const httpStatusMark = "--fleetharden-http "

// dockerAPIScript, after dockerAPIVars, picks how the scripts after it read the Docker API on the socket in
// the variable sock, and records the choice in api_tool: "socket" where the socket is
// writable and perl or curl can read it, the docker CLI elsewhere. It exits 127 when
// neither can be used. Its function docker_api prints the response to a GET of each API
// path it gets, each followed by an httpStatusMark line, and socket_failed explains a
// failed read of the socket.
//
// docker_api tries perl first, which is part of every Debian and Ubuntu system and
// starts in about 2 ms on a lab host, against about 10 ms for curl, and curl when perl
// is missing or fails. Both start several times faster than the docker CLI.
// NOTE: the socket way reads the default socket only, so a root docker context that
// points to another daemon is not followed where that socket exists.
const dockerAPIScript = `
if [ -S "$sock" ] && [ -w "$sock" ] &&
	{ command -v perl >/dev/null 2>&1 || command -v curl >/dev/null 2>&1; }; then
	api_tool=socket
elif command -v docker >/dev/null 2>&1; then
	api_tool=docker
else
	echo 'docker: command not found' >&2
	exit 127
fi
docker_api() {
	if command -v perl >/dev/null 2>&1 && perl -e "$perl_get" -- "$sock" "$http_mark" "$@"; then
		return 0
	fi
	if ! command -v curl >/dev/null 2>&1; then
		printf '\n%s000\n' "$http_mark"
		return 7
	fi
	urls=
	for p in "$@"; do urls="$urls http://localhost$p"; done
	curl -q -s --unix-socket "$sock" -w "\n$http_mark%{http_code}\n" $urls
}
socket_failed() {
	echo "cannot read the Docker API on $sock (exit status $1, HTTP status $2)," \
		"and the docker CLI is not installed: check that dockerd runs" >&2
	exit 1
}
`

// dockerAPIVars defines the variables http_mark and perl_get of dockerAPIScript, which
// the daemon state read also uses when it reads the Docker API first.
const dockerAPIVars = `
http_mark='` + httpStatusMark + `'
perl_get='` + perlHTTPGet + `'
`

// perlHTTPGet is a perl program that prints the response body to a GET of each API path
// after its first two arguments, the socket and the status mark, as curl does with
// dockerAPIScript's options. Given --server before the paths, it also prints each
// response's Server header after its status line, behind serverHeaderMark. Loading
// perl's Socket module costs more than the whole program, so it uses none and spells out
// AF_UNIX and SOCK_STREAM as Linux numbers them. Where SOCK_STREAM differs, as on MIPS,
// the connect fails and curl takes over. It prints nothing and exits 1 unless every
// request got a response, so that a retry with curl does not repeat output. It contains
// no single quote, so the shell script can quote it.
const perlHTTPGet = `my ($sock, $mark, @paths) = @ARGV; my $out = "";
my $server = @paths && $paths[0] eq "--server" && shift @paths;
for my $path (@paths) {
	socket(my $s, 1, 1, 0) or exit 1;
	connect($s, pack("S Z108", 1, $sock)) or exit 1;
	defined syswrite($s, "GET $path HTTP/1.0\r\nHost: docker\r\n\r\n") or exit 1;
	my ($response, $n) = ("", 0);
	while ($n = sysread($s, my $chunk, 65536)) { $response .= $chunk }
	defined $n or exit 1;
	$response =~ m{\AHTTP/\d\.\d (\d{3}) (.*?)\r\n\r\n}s or exit 1;
	my ($status, $header) = ($1, $2);
	$out .= substr($response, $+[0]) . "\n$mark$status\n";
	$out .= "` + serverHeaderMark + `$1\n" if $server && $header =~ m{^Server: *([^\r\n]*)}mi;
}
print $out;`

// serverHeaderMark starts the line on which perlHTTPGet prints a response's Server
// header, which dockerd sets to "Docker/VERSION (OS)" on its API responses.
const serverHeaderMark = "--fleetharden-server "

// idleDaemonMark starts what dockerInfoScript prints in place of docker info for a daemon
// that runs no container, when the variable need_info is empty: report fields with the
// daemon's Server header (server) and whether the kernel has seccomp filters
// (seccomp_filter). The containers' list that this comes from cost dockerd about 2 ms of
// CPU on a lab host, and docker info 13 ms, since it runs runc and docker-init for their
// versions.
const idleDaemonMark = "--fleetharden-idle-daemon"

// dockerInfoScript prints docker info as JSON, or the idleDaemonMark report for a daemon
// without running containers unless the variable need_info is set. It exits 127 when
// docker is missing and nonzero when the daemon is unreachable. A failed read of the
// socket is retried with the docker CLI, whose errors explain the failure. A containers'
// list that the script before it read already, in the variable early_docker, is used in
// place of a read of its own.
const dockerInfoScript = `
info_done=
if [ "$api_tool" = socket ] && [ -z "$need_info" ] && command -v perl >/dev/null 2>&1 &&
	if [ -n "$early_docker" ]; then out=$early_docker; else
		out=$(perl -e "$perl_get" -- "$sock" "$http_mark" --server /containers/json)
	fi; then
	case $out in
	"[]"*"${http_mark}200
` + serverHeaderMark + `"*)
		echo ` + idleDaemonMark + `
		echo "server=${out##*"` + serverHeaderMark + `"}"
		[ -e /proc/sys/kernel/seccomp/actions_avail ] && echo seccomp_filter=yes
		info_done=yes
		;;
	esac
fi
if [ "$api_tool" = socket ] && [ -z "$info_done" ]; then
	out=$(docker_api /info)
	rc=$? status=${out##*"$http_mark"}
	if [ $rc -eq 0 ] && [ "$status" = 200 ]; then
		printf '%s\n' "${out%"$http_mark"*}"
	else
		command -v docker >/dev/null 2>&1 || socket_failed $rc "$status"
		api_tool=docker
	fi
fi
if [ "$api_tool" = docker ] && [ -z "$info_done" ]; then
	docker info --format '{{json .}}' || exit
fi
`

// dockerStateScript prints docker info as JSON, the daemon.json named by the variable
// daemon_json, dockerd's argv, and the report fields of daemon.json's status change time
// and of dockerd's start, separated by section markers. It fails as dockerInfoScript
// does.
const dockerStateScript = dockerInfoScript + daemonStartScript + `
echo ` + sectionMarker + `
cat "$daemon_json" 2>/dev/null
echo ` + sectionMarker + `
for p in $(pidof dockerd 2>/dev/null); do tr '\0' '\n' </proc/$p/cmdline; break; done
echo ` + sectionMarker + `
[ -f "$daemon_json" ] && echo "file_changed=$(stat -L -c %z "$daemon_json" 2>/dev/null)"
for p in $(pidof dockerd 2>/dev/null); do print_daemon_start "$p"; break; done
exit 0
`

// runningContainersScript prints the inspect data of the containers that docker ps
// lists: running, paused and restarting ones. The docker CLI prints one JSON array, and
// curl one object a container, each followed by its HTTP status. A container that is
// removed between the listing and its inspection is left out: docker inspect reports it
// as no such object, and curl gets status 404 for it. Any other inspect failure fails
// the script, because it would leave containers unchecked.
const runningContainersScript = `
if [ "$api_tool" = socket ]; then
	out=$(docker_api /containers/json)
	rc=$? status=${out##*"$http_mark"}
	if [ $rc -eq 0 ] && [ "$status" = 200 ]; then
		paths=
		for id in $(printf '%s\n' "${out%"$http_mark"*}" | grep -o '"Id":"[0-9a-f]*"' |
			cut -d '"' -f 4); do
			paths="$paths /containers/$id/json"
		done
		if [ -n "$paths" ]; then docker_api $paths; fi
		exit 0
	fi
	command -v docker >/dev/null 2>&1 || socket_failed $rc "$status"
fi
ids=$(docker ps -q --no-trunc) || exit
[ -n "$ids" ] || exit 0
{ errors=$(docker inspect $ids 2>&1 >&3); rc=$?; } 3>&1
if [ $rc -ne 0 ]; then
	other=$(printf '%s\n' "$errors" | grep -v -i -e 'no such object' -e 'no such container' |
		grep .)
	if [ -n "$other" ]; then
		printf '%s\n' "$other" >&2
		exit 1
	fi
fi
exit 0
`

// dockerInfo is the part of `docker info` output that tasks read.
type dockerInfo struct {
	ServerVersion   string
	Driver          string
	LoggingDriver   string
	CgroupDriver    string
	DockerRootDir   string
	SecurityOptions []string
	ServerErrors    []string
	Containers      *int // containers in any state; nil when the daemon does not report it
}

// dockerContainer is the part of `docker inspect` output the check reads.
type dockerContainer struct {
	ID              string `json:"Id"`
	Name            string
	AppArmorProfile string
	Config          struct{ Image string }
	HostConfig      struct {
		Privileged  bool
		CapAdd      []string
		SecurityOpt []string
	}
}

// dockerState is the state of the running Docker daemon that one run of
// dockerStateScript read.
type dockerState struct {
	info dockerInfo
	// idle is set when the read found no running container and took the daemon's
	// idleDaemonMark report for docker info: info then has ServerVersion and Containers
	// only.
	idle      bool
	daemonNNP bool // no-new-privileges is the daemon's default for new containers
	// nnpPending is set when daemon.json sets no-new-privileges but the running daemon
	// started before the file last changed, so it does not apply it yet.
	nnpPending    bool
	seccompActive bool
	apparmorOn    bool
}

// dockerStateKey names the Docker state read in the memo.
var dockerStateKey = memoKey{kind: "docker state"}

// dockerInfoKey is expected in the memo when a task needs all of docker info, which the
// Docker state of an idle daemon leaves out. The memo never stores it.
var dockerInfoKey = memoKey{kind: "docker info"}

// errIdleUncertain reports an idleDaemonMark report from which the daemon's version or
// seccomp state cannot be determined, so the Docker state needs docker info.
var errIdleUncertain = errors.New("the idle daemon's report is not enough: docker info " +
	"is needed")

// dockerExitMark starts the line with the exit status of the Docker state read that
// dockerStateSection adds to another command.
const dockerExitMark = "--fleetharden-docker-exit "

// dockerDaemonJSON is the daemon.json that the Docker state describes: dockerd's default.
// Tests point it elsewhere.
var dockerDaemonJSON = "/etc/docker/daemon.json"

// dockerStateSection returns, when add is set, a script part that runs the docker info
// read in a subshell and prints its output as the report section docker_state, ending
// with a dockerExitMark line. The rest of the Docker state comes from the daemon state
// read around it. Its errors are left to a read of its own. It expects the variables
// that earlyDockerRead sets.
func dockerStateSection(add, needInfo bool) string {
	if !add {
		return ""
	}
	return "echo '--- fleetharden docker_state'\n(\nsock=" + Quote(dockerSocket) + "\n" +
		needInfoLine(needInfo) + dockerAPIScript + dockerInfoScript + ") 2>/dev/null\n" +
		"echo \"" + dockerExitMark + "$?\"\n"
}

// needInfoLine sets the variable need_info of dockerInfoScript.
func needInfoLine(needInfo bool) string {
	if needInfo {
		return "need_info=yes\n"
	}
	return "need_info=\n"
}

// dockerStateFrom returns the Docker state from the docker info read of
// dockerStateSection and the daemon state read with it, of file. It returns nil when the
// read failed or did not run, or when the daemon state did not read dockerDaemonJSON
// itself, as for another file or a symbolic link. The error is that of newDockerState.
func dockerStateFrom(state *daemonState, file string) (*dockerState, error) {
	body, status, found := strings.Cut(state.dockerSection, dockerExitMark)
	if !found || strings.TrimSpace(status) != "0" || file != dockerDaemonJSON {
		return nil, nil
	}
	var daemonJSON []byte
	switch {
	case state.file.content != nil:
		daemonJSON = state.file.content.Data
	case state.file.kind != "missing":
		return nil, nil
	}
	return newDockerState(body, daemonJSON, state.runningArgv, state.usesCurrentFile())
}

// readDockerState reads the state of the running Docker daemon with one command, once
// while env.Memo keeps it. With fullInfo, the state has all of docker info even when no
// container runs. Callers must not modify the returned state.
func readDockerState(ctx context.Context, env *Env, fullInfo bool) (*dockerState, error) {
	state, err := recall(env.Memo, dockerStateKey, func() (*dockerState, error) {
		return readDockerStateOf(ctx, env.Host, fullInfo || env.Memo.expects(dockerInfoKey))
	})
	if err == nil && fullInfo && state.idle {
		state, err = readDockerStateOf(ctx, env.Host, true)
		if err == nil {
			env.Memo.store(dockerStateKey, state)
		}
	}
	return state, err
}

// readDockerStateOf runs dockerStateScript on h. When the daemon is idle but its report
// leaves its version or seccomp state unknown, it reads again with needInfo.
func readDockerStateOf(ctx context.Context, h Host, needInfo bool) (*dockerState, error) {
	out, err := runDockerScript(ctx, h, "read the state of the Docker daemon",
		"daemon_json="+Quote(dockerDaemonJSON)+"\n"+needInfoLine(needInfo)+dockerStateScript)
	if err != nil {
		return nil, err
	}
	sections := strings.SplitN(string(out), sectionMarker+"\n", 4)
	for len(sections) < 4 {
		sections = append(sections, "")
	}
	state, err := parseDockerState(sections)
	if errors.Is(err, errIdleUncertain) && !needInfo {
		return readDockerStateOf(ctx, h, true)
	}
	return state, err
}

// readRunningContainers returns the inspect data of the running, paused and restarting
// containers. It runs no command when state reports that the daemon has no container.
func readRunningContainers(ctx context.Context, env *Env, state *dockerState) (
	[]dockerContainer, error) {
	if n := state.info.Containers; n != nil && *n == 0 {
		return nil, nil
	}
	out, err := runDockerScript(ctx, env.Host, "inspect the running containers",
		runningContainersScript)
	if err != nil {
		return nil, err
	}
	containers, err := parseContainers(out)
	if err != nil {
		return nil, fmt.Errorf("parse docker inspect output: %w", err)
	}
	return containers, nil
}

// parseContainers reads inspect data: JSON arrays of containers, as docker inspect
// prints, or container objects each followed by an httpStatusMark line, as
// runningContainersScript prints them from curl. A response with status 404 is a
// container removed since the listing and is left out. A container listed twice is
// returned once.
func parseContainers(out []byte) ([]dockerContainer, error) {
	var containers []dockerContainer
	seen := map[string]bool{}
	add := func(c dockerContainer) {
		if !seen[c.ID] {
			seen[c.ID] = true
			containers = append(containers, c)
		}
	}

	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	if !bytes.Contains(out, []byte(httpStatusMark)) {
		var list []dockerContainer
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, err
		}
		for _, c := range list {
			add(c)
		}
		return containers, nil
	}

	rest := out
	for len(bytes.TrimSpace(rest)) > 0 {
		body, after, found := bytes.Cut(rest, []byte("\n"+httpStatusMark))
		if !found {
			return nil, fmt.Errorf("response without an HTTP status: %s",
				shorten(string(body), 100))
		}
		status, next, _ := bytes.Cut(after, []byte("\n"))
		rest = next
		switch string(status) {
		case "200":
			var c dockerContainer
			if err := json.Unmarshal(body, &c); err != nil {
				return nil, err
			}
			add(c)
		case "404":
		default:
			return nil, fmt.Errorf("HTTP status %s: %s", status,
				shorten(string(bytes.TrimSpace(body)), 200))
		}
	}
	return containers, nil
}

// runDockerScript runs body after dockerAPIScript and returns its standard output. The
// command starts with a comment naming op, which also names the read in errors.
func runDockerScript(ctx context.Context, h Host, op, body string) ([]byte, error) {
	script := "# fleetharden: " + op + "\nsock=" + Quote(dockerSocket) + "\n" +
		dockerAPIVars + dockerAPIScript + body
	res, err := h.Run(ctx, script, nil)
	if err != nil {
		return nil, &remoteError{op: op, err: err}
	}
	switch res.ExitCode {
	case 0:
		return res.Stdout, nil
	case 127:
		return nil, errors.New("docker: command not found: install Docker or remove this task")
	default:
		return nil, fmt.Errorf("%s: exit status %d: %s", op, res.ExitCode,
			shorten(string(res.Stderr), 300))
	}
}

// parseDockerState reads the sections of dockerStateScript: docker info, daemon.json,
// dockerd's argv and the report fields.
func parseDockerState(sections []string) (*dockerState, error) {
	fileCurrent := daemonUsesCurrentFile(parseRemoteReport([]byte(sections[3])).fields)
	return newDockerState(sections[0], []byte(sections[1]), strings.Fields(sections[2]),
		fileCurrent)
}

// newDockerState builds the Docker state from docker info's JSON, the content of
// daemon.json, the running dockerd's argv, and fileCurrent, which reports whether the
// daemon started after daemon.json last changed.
func newDockerState(infoJSON string, daemonJSON []byte, argv []string, fileCurrent bool) (
	*dockerState, error) {
	s := &dockerState{}
	if report, idle := strings.CutPrefix(strings.TrimSpace(infoJSON), idleDaemonMark); idle {
		fields := parseRemoteReport([]byte(report)).fields
		if err := s.setIdle(fields, daemonJSON, argv, fileCurrent); err != nil {
			return nil, err
		}
	} else if err := s.setInfo(infoJSON); err != nil {
		return nil, err
	}
	s.daemonNNP = daemonDefaultNNP(daemonJSON, argv, fileCurrent)
	s.nnpPending = !s.daemonNNP && daemonDefaultNNP(daemonJSON, argv, true)
	return s, nil
}

// setInfo parses docker info's JSON into s, with the seccomp and AppArmor state that it
// reports.
func (s *dockerState) setInfo(infoJSON string) error {
	if err := json.Unmarshal([]byte(infoJSON), &s.info); err != nil {
		return fmt.Errorf("parse docker info output: %w", err)
	}
	if len(s.info.ServerErrors) > 0 {
		return fmt.Errorf("docker info: %s", strings.Join(s.info.ServerErrors, "; "))
	}

	for _, opt := range s.info.SecurityOptions {
		fields := strings.Split(opt, ",")
		switch fields[0] {
		case "name=apparmor":
			s.apparmorOn = true
		case "name=seccomp":
			s.seccompActive = !strings.Contains(opt, "profile=unconfined")
		}
	}
	return nil
}

// setIdle sets s from the idleDaemonMark report fields of a daemon that runs no
// container. Such a daemon confines new containers with its default seccomp profile when
// the kernel has seccomp filters and neither its flags nor daemon.json name a profile, and
// fileCurrent reports that it started after daemon.json last changed.
// Otherwise, or when the Server header is not dockerd's, setIdle returns
// errIdleUncertain, because only docker info shows the state.
func (s *dockerState) setIdle(fields map[string]string, daemonJSON []byte, argv []string,
	fileCurrent bool) error {
	// Another server behind the socket, such as Podman's, sends another Server header,
	// and its docker info is read instead.
	version, ok := serverVersion(fields["server"])
	if !ok || fields["seccomp_filter"] != "yes" || seccompProfileSet(daemonJSON, argv) ||
		!fileCurrent {
		return errIdleUncertain
	}
	none := 0
	s.info = dockerInfo{ServerVersion: version, Containers: &none}
	s.idle = true
	s.seccompActive = true
	return nil
}

// serverVersion returns the version in dockerd's Server header, "Docker/VERSION (OS)".
func serverVersion(header string) (string, bool) {
	rest, ok := strings.CutPrefix(header, "Docker/")
	if !ok {
		return "", false
	}
	version, _, _ := strings.Cut(rest, " ")
	return version, version != ""
}

// seccompProfileSet reports whether dockerd's flags or daemon.json name a seccomp profile,
// or daemon.json cannot be read as JSON.
func seccompProfileSet(daemonJSON []byte, argv []string) bool {
	for _, f := range parseDaemonFlags(argv) {
		if f.Name == "seccomp-profile" {
			return true
		}
	}
	if len(bytes.TrimSpace(daemonJSON)) == 0 {
		return false
	}
	var conf map[string]json.RawMessage
	if err := json.Unmarshal(daemonJSON, &conf); err != nil {
		return true
	}
	_, set := conf["seccomp-profile"]
	return set
}
