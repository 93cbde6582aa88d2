package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// dockerSocket is the path of dockerd's API socket in its default configuration. Tests
// point it elsewhere.
var dockerSocket = "/var/run/docker.sock"

// dockerAPIScript picks how the scripts after it read the Docker API on the socket in
// the variable sock, and records the choice in api_tool. It picks curl where curl is
// installed and the socket exists, because curl starts several times faster than the
// docker CLI, and the docker CLI elsewhere. It exits 127 when neither can be used. Its
// function docker_api prints the responses to a GET of each API path it gets.
// NOTE: the curl way reads the default socket only, so a root docker context that
// points to another daemon is not followed where that socket exists.
const dockerAPIScript = `
if [ -S "$sock" ] && command -v curl >/dev/null 2>&1; then
	api_tool=curl
elif command -v docker >/dev/null 2>&1; then
	api_tool=docker
else
	echo 'docker: command not found' >&2
	exit 127
fi
docker_api() {
	urls=
	for p in "$@"; do urls="$urls http://localhost$p"; done
	curl -sS --fail --unix-socket "$sock" $urls
}
`

// dockerStateScript prints docker info as JSON, daemon.json, dockerd's argv, and the
// report fields of daemon.json's modification time and of dockerd's start, separated by
// section markers. It exits 127 when docker is missing and nonzero when the daemon is
// unreachable.
const dockerStateScript = daemonStartScript + `
if [ "$api_tool" = curl ]; then
	docker_api /info || { echo "cannot connect to the Docker daemon at $sock" >&2; exit 1; }
	echo
else
	docker info --format '{{json .}}' || exit
fi
echo ` + sectionMarker + `
cat /etc/docker/daemon.json 2>/dev/null
echo ` + sectionMarker + `
for p in $(pidof dockerd 2>/dev/null); do tr '\0' '\n' </proc/$p/cmdline; break; done
echo ` + sectionMarker + `
f=/etc/docker/daemon.json
[ -f "$f" ] && echo "file_mtime=$(date -r "$f" +%s.%N 2>/dev/null)"
for p in $(pidof dockerd 2>/dev/null); do print_daemon_start "$p"; break; done
exit 0
`

// runningContainersScript prints the inspect data of the running containers: a JSON
// array from the docker CLI, or one object a container through curl. It prints nothing
// when none runs. A container that stops between the listing and its inspection is left
// out: docker inspect still prints the others, and curl moves on to the next URL.
const runningContainersScript = `
if [ "$api_tool" = curl ]; then
	list=$(docker_api /containers/json) ||
		{ echo "cannot connect to the Docker daemon at $sock" >&2; exit 1; }
	paths=
	for id in $(printf '%s\n' "$list" | grep -o '"Id":"[0-9a-f]*"' | cut -d '"' -f 4); do
		paths="$paths /containers/$id/json"
	done
	if [ -n "$paths" ]; then docker_api $paths; fi
	exit 0
fi
ids=$(docker ps -q --no-trunc) || exit
if [ -n "$ids" ]; then docker inspect $ids; fi
exit 0
`

// dockerInfo is the part of `docker info` output that tasks read.
type dockerInfo struct {
	ServerVersion     string
	Driver            string
	LoggingDriver     string
	CgroupDriver      string
	DockerRootDir     string
	SecurityOptions   []string
	ServerErrors      []string
	ContainersRunning *int // nil when the daemon does not report it
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
	info      dockerInfo
	daemonNNP bool // no-new-privileges is the daemon's default for new containers
	// nnpPending is set when daemon.json sets no-new-privileges but the running daemon
	// started before the file last changed, so it does not apply it yet.
	nnpPending    bool
	seccompActive bool
	apparmorOn    bool
}

// readDockerState reads the state of the running Docker daemon with one command, once
// while env.Memo keeps it. Callers must not modify the returned state.
func readDockerState(ctx context.Context, env *Env) (*dockerState, error) {
	return recall(env.Memo, memoKey{kind: "docker state"}, func() (*dockerState, error) {
		out, err := runDockerScript(ctx, env.Host, "read the state of the Docker daemon",
			dockerStateScript)
		if err != nil {
			return nil, err
		}
		sections := strings.SplitN(string(out), sectionMarker+"\n", 4)
		for len(sections) < 4 {
			sections = append(sections, "")
		}
		return parseDockerState(sections)
	})
}

// readRunningContainers returns the inspect data of the running containers. It runs no
// command when state reports that none runs.
func readRunningContainers(ctx context.Context, env *Env, state *dockerState) (
	[]dockerContainer, error) {
	if n := state.info.ContainersRunning; n != nil && *n == 0 {
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
// prints, or single container objects, as the API returns, one after the other.
func parseContainers(out []byte) ([]dockerContainer, error) {
	var containers []dockerContainer
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var value json.RawMessage
		err := dec.Decode(&value)
		if errors.Is(err, io.EOF) {
			return containers, nil
		}
		if err != nil {
			return nil, err
		}
		if value[0] == '[' {
			var list []dockerContainer
			if err := json.Unmarshal(value, &list); err != nil {
				return nil, err
			}
			containers = append(containers, list...)
			continue
		}
		var c dockerContainer
		if err := json.Unmarshal(value, &c); err != nil {
			return nil, err
		}
		containers = append(containers, c)
	}
}

// runDockerScript runs body after dockerAPIScript and returns its standard output. The
// command starts with a comment naming op, which also names the read in errors.
func runDockerScript(ctx context.Context, h Host, op, body string) ([]byte, error) {
	script := "# fleetharden: " + op + "\nsock=" + Quote(dockerSocket) + "\n" +
		dockerAPIScript + body
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
	s := &dockerState{}
	if err := json.Unmarshal([]byte(sections[0]), &s.info); err != nil {
		return nil, fmt.Errorf("parse docker info output: %w", err)
	}
	if len(s.info.ServerErrors) > 0 {
		return nil, fmt.Errorf("docker info: %s", strings.Join(s.info.ServerErrors, "; "))
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
	daemonJSON := []byte(sections[1])
	argv := strings.Fields(sections[2])
	fileCurrent := daemonUsesCurrentFile(parseRemoteReport([]byte(sections[3])).fields)
	s.daemonNNP = daemonDefaultNNP(daemonJSON, argv, fileCurrent)
	s.nnpPending = !s.daemonNNP && daemonDefaultNNP(daemonJSON, argv, true)
	return s, nil
}
