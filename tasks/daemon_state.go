package tasks

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/fleetharden/fleetharden/transport"
)

// daemonStartScript defines print_daemon_start, which prints the fields that
// parseDaemonStart reads for the process whose PID it gets: the start time in clock ticks
// since boot, the uptime and the wall clock time. Uptime and wall clock are read one
// after the other, so their difference is the boot time.
const daemonStartScript = `
print_daemon_start() {
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	set -- ${stat##*) }
	echo "dockerd_start_ticks=${20}"
	read -r up _ </proc/uptime
	echo "uptime=$up"
	echo "now=$(date +%s.%N)"
}
`

// daemonStateScriptBody reads, in one command, what docker_daemon_config checks before
// it writes: the unit's properties, the running dockerd's argv, and then report fields
// about the dockerd binary and process, the file and the directory it would be written
// to, with the file's content and metadata when it is a regular file of at most
// max_inline bytes, and the environment files that ExecStart needs. It expects the
// variables unit, file, mounts, max_inline, accounts and early_get, and leaves in
// early_docker the containers' list that perlUnitProperties read. The sections are
// separated by sectionMarker, and the last one is read by parseRemoteReport. One perl,
// perlUnitProperties, reads the unit, the argv and the files to copy where it can, and
// systemctl, tr and copy_text read them where it cannot.
const daemonStateScriptBody = daemonStartScript + copyTextScript + `
perl_unit='` + perlUnitProperties + `'
# Descriptor 3 stays open on the file, so that its content and metadata describe the same
# version of it.
file_fd=
if [ ! -L "$file" ] && [ -f "$file" ] && command exec 3<"$file"; then file_fd=3; fi 2>/dev/null
# A host without a system bus, as a container without systemd, goes without the perl.
out= rc=1
if [ ! -S /run/dbus/system_bus_socket ]; then
	:
elif [ -n "$early_get" ]; then
	out=$(perl -e "$perl_unit" -e "$perl_get" -- "$unit" "$accounts" "$file_fd" "$sock" \
		"$http_mark" --server /containers/json 2>/dev/null)
	rc=$?
else
	out=$(perl -e "$perl_unit" -- "$unit" "$accounts" "$file_fd" 2>/dev/null)
	rc=$?
fi
early_docker= argv= copies= file_part= perl_read=
case $out in
*"` + perlPartEnd + `"*)
	fh_ifs=$IFS IFS=` + perlPartEnd + `
	set -- $out
	IFS=$fh_ifs props=$1 argv=$2 copies=$3 file_part=$4 perl_read=yes
	[ $rc -eq 0 ] && early_docker=$5
	;;
*)
	props=$(systemctl show -p ExecStart -p EnvironmentFiles -p Environment -p LoadState \
		-p MainPID -- "$unit" 2>/dev/null)
	;;
esac
printf '%s\n' "$props"
echo ` + sectionMarker + `

pid= exec_path= env_vars= env_files=
while IFS= read -r line; do
	case $line in
	MainPID=*) pid=${line#MainPID=} ;;
	"ExecStart={ path="*)
		if [ -z "$exec_path" ]; then
			exec_path=${line#"ExecStart={ path="}
			exec_path=${exec_path%%[ ;]*}
		fi
		case $line in *'$'*) env_vars=yes ;; esac
		;;
	EnvironmentFiles=?*)
		line=${line#EnvironmentFiles=}
		env_files="$env_files${line%% *}
"
		;;
	esac
done <<PROPS
$props
PROPS
if [ -z "$pid" ] || [ "$pid" = 0 ]; then
	pid=
	for p in $(pidof dockerd 2>/dev/null); do pid=$p; break; done
fi
if [ -n "$argv" ]; then
	printf '%s' "$argv"
elif [ -n "$pid" ]; then
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null
fi
echo ` + sectionMarker + `

[ -x "/etc/init.d/${unit%.service}" ] && echo init_script=yes
if [ -n "$exec_path" ] && [ ! -x "$exec_path" ]; then echo "exec_missing=$exec_path"; fi
case $exec_path in */dockerd) ;; *) exec_path= ;; esac
dockerd=
if [ -n "$exec_path" ] && [ -x "$exec_path" ]; then
	dockerd=$exec_path
else
	for d in "$(command -v dockerd 2>/dev/null)" /usr/bin/dockerd /usr/sbin/dockerd \
		/usr/local/bin/dockerd; do
		if [ -z "$dockerd" ] && [ -n "$d" ] && [ -x "$d" ]; then dockerd=$d; fi
	done
fi
echo "dockerd=$dockerd"
if [ -n "$pid" ]; then
	echo dockerd_running=yes
	print_daemon_start "$pid"
fi

link=
if [ -L "$file" ]; then
	echo file=symlink
	link=$(readlink -- "$file")
elif [ -d "$file" ]; then
	echo file=directory
elif [ -f "$file" ]; then
	echo file=regular
	# The content and metadata come from one open file, and only up to max_inline bytes.
	{
		# A file replaced while the perl ran is read again, as it is now.
		if [ -n "$file_fd" ] && ! [ /dev/fd/3 -ef "$file" ]; then file_fd= file_part=; fi
		[ -n "$file_fd" ] || command exec 3<"$file"
		meta=$(stat -L -c '%a %u %g %s %z' /dev/fd/3) && set -- $meta &&
			echo "file_changed=$5 $6 $7" &&
			[ "$4" -le "$max_inline" ] &&
			if [ -n "$file_part" ]; then
				printf '%s' "$file_part"
			else
				data=$(base64 -w 0 <&3) && echo "file_meta=$1 $2 $3 $4" && echo "file_data=$data"
			fi
	} 2>/dev/null
elif [ -e "$file" ]; then
	echo file=other
else
	echo file=missing
fi
exec 3<&-

dir=${file%/*}
while [ -n "$dir" ] && [ ! -d "$dir" ]; do dir=${dir%/*}; done
[ -n "$dir" ] || dir=/
echo "dir=$dir"
# A directory that the script can write is not on a read-only mount, which spares root
# the mount table. Another table than the kernel's, as tests give, is always read.
if [ "$mounts" != /proc/mounts ] || [ ! -w "$dir" ]; then
	real=$(cd -P -- "$dir" 2>/dev/null && pwd -P) || real=$dir
	opts=$(D=$real awk '
	BEGIN { d = ENVIRON["D"]; best = -1 }
	{
		mp = $2
		gsub(/\\040/, " ", mp); gsub(/\\011/, "\t", mp); gsub(/\\012/, "\n", mp)
		gsub(/\\134/, "\\", mp)
		prefix = (mp == "/") ? "/" : mp "/"
		if ((d == mp || index(d, prefix) == 1) && length(mp) >= best) {
			best = length(mp); opts = $4
		}
	}
	END { print opts }' "$mounts" 2>/dev/null)
	case ",$opts," in *,ro,*) echo dir_read_only=yes ;; esac
fi

if [ -n "$link" ]; then
	echo "--- fleetharden link"
	printf '%s\n' "$link"
fi

# The environment files that ExecStart takes variables from. systemd skips a missing one
# marked optional, and so does any other file that is not regular. The perl that read
# the unit copies them, and the account databases, unless it failed.
if [ -n "$copies" ]; then
	printf '%s' "$copies"
elif [ -n "$env_vars" ] && [ -z "$perl_read" ]; then
	while IFS= read -r f; do
		if [ -z "$f" ]; then
			continue
		elif [ -f "$f" ] && [ -r "$f" ]; then
			copy_text "` + envFileSection + `$f" "$f"
		elif [ ! -e "$f" ]; then
			echo "--- fleetharden ` + envFileMissingSection + `$f"
		elif [ ! -f "$f" ]; then
			echo "--- fleetharden ` + envFileOtherSection + `$f"
		fi
	done <<FILES
$env_files
FILES
fi
`

// copyTextScript defines copy_text, which prints the file $2 as the report section $1:
// each line behind a "|", so that none reads as a section marker, and then the line
// "end". It stops before "end" when the file is over copyTextLimit bytes, which leaves
// the file to a read of its own. The read builtin copies the lines, so no process starts
// for them, but it reads a byte at a time.
// NOTE: the limit is tested after each line, so a file of one very long line is read
// whole first, at a few seconds per megabyte on a lab host.
const copyTextScript = `
copy_text() {
	echo "--- fleetharden $1"
	copied=0
	while IFS= read -r l || [ -n "$l" ]; do
		copied=$((copied + ${#l} + 1))
		[ "$copied" -le 262144 ] || return 0
		printf '|%s\n' "$l"
	done <"$2" || return 0
	echo end
}
`

// copyTextLimit is the largest file that copy_text and perlUnitProperties copy, in bytes,
// as their scripts spell it out.
const copyTextLimit = 256 << 10

// copiedText returns the text of a report section that copy_text printed, and whether
// copy_text copied the whole file.
func copiedText(body string) (string, bool) {
	lines := strings.Split(body, "\n")
	if len(lines) == 0 || lines[len(lines)-1] != "end" {
		return "", false
	}
	var text strings.Builder
	for _, line := range lines[:len(lines)-1] {
		rest, ok := strings.CutPrefix(line, "|")
		if !ok {
			return "", false
		}
		text.WriteString(rest + "\n")
	}
	return text.String(), true
}

// maxInlineFile is the largest file that the daemon state script returns itself. A
// larger one is read over SFTP.
const maxInlineFile = 1 << 20

// daemonStateQuery names what readDaemonState reads.
type daemonStateQuery struct {
	unit, file string
	mounts     string // the mount table: /proc/mounts, or a fake one in tests
	// docker adds the Docker state read (dockerStateScript) to the same command, for a
	// run whose later tasks need it, and dockerInfo makes it read docker info in full.
	docker, dockerInfo bool
	// accounts adds the local account databases, for a run whose group tasks read them.
	accounts bool
}

// script returns the remote command of q. It collects the report in a variable and
// prints it with one write, so that sshd sends it in a few packets, not one a line.
func (q daemonStateQuery) script() string {
	return "set -f\nunit=" + Quote(q.unit) + "\nfile=" + Quote(q.file) + "\nmounts=" +
		Quote(q.mounts) + "\nmax_inline=" + strconv.Itoa(maxInlineFile) + "\n" +
		"accounts=" + accountsList(q.accounts) + "\n" + earlyDockerRead(q.docker, q.dockerInfo) +
		"report=$(\n" + daemonStateScriptBody + dockerStateSection(q.docker, q.dockerInfo) +
		accountsSection(q.accounts) +
		"exit 0\n)\nprintf '%s\\n' \"$report\"\nexit 0\n"
}

// earlyDockerRead returns, when add is set, the lines that set the variables of the
// Docker API scripts and early_get. With early_get set, the perl that reads the unit also
// reads the containers' list for dockerInfoScript, which spares a lab host a second perl
// start, about 1.5 ms of CPU. It is not set when the daemon's full info is needed.
func earlyDockerRead(add, needInfo bool) string {
	if !add {
		return "early_get=\n"
	}
	early := "early_get=\n"
	if !needInfo {
		early += `[ -S "$sock" ] && [ -w "$sock" ] && early_get=yes` + "\n"
	}
	return "sock=" + Quote(dockerSocket) + "\n" + dockerAPIVars + early
}

// accountSectionPrefix starts the name of the report section that holds an account
// database, followed by its path.
const accountSectionPrefix = "account "

// accountsList returns, when add is set, the account databases for perlUnitProperties to
// copy, quoted for the shell.
func accountsList(add bool) string {
	if !add {
		return "''"
	}
	return Quote(groupFile + ":" + passwdFile)
}

// accountsSection returns, when add is set, a script part that copies each local account
// database that exists with copy_text.
func accountsSection(add bool) string {
	if !add {
		return ""
	}
	return "[ -n \"$perl_read\" ] || for f in " + Quote(groupFile) + " " + Quote(passwdFile) +
		"; do\n" +
		"\t[ -f \"$f\" ] && copy_text \"" + accountSectionPrefix + "$f\" \"$f\"\n" +
		"done\n"
}

// daemonState is the state of a host's Docker daemon and of the file to write, as
// docker_daemon_config reads it before it changes anything.
type daemonState struct {
	commandLine *daemonCommandLine
	unitFound   bool   // systemd has the unit loaded, or an init script of its name exists
	unitLoaded  bool   // systemd has the unit loaded
	unitName    string // the unit's file name, such as docker.service
	// dockerSection is the output of the docker info read run with this one, or "".
	dockerSection string
	runningArgv   []string // the running dockerd's argv, or nil
	// accountFiles maps the path of each account database that exists to its text, or to
	// nil when the read did not copy all of it.
	accountFiles map[string]*string
	execMissing  string // the program of the unit's ExecStart when it does not exist
	dockerd      string // path of the dockerd binary, or "" when none was found
	running      bool   // a dockerd process runs
	started      time.Time
	file         fileState
}

// fileState describes the file that a task would write, and where.
type fileState struct {
	kind       string          // "missing", "regular", "symlink", "directory" or "other"
	linkTarget string          // for a symbolic link
	changed    time.Time       // the last status change (ctime), which writes and renames set
	content    *transport.File // the file as the script read it, or nil
	dir        string          // the nearest existing directory above the file
	readOnly   bool            // dir is on a read-only mount
}

// readDaemonState reads the state of the daemon of unit and of file with one command,
// plus one file read for each environment file that ExecStart refers to through a
// variable and that the command could not copy. It reads once while env.Memo keeps the result, and callers must
// not modify the returned state.
func readDaemonState(ctx context.Context, env *Env, unit, file string) (*daemonState, error) {
	key := memoKey{kind: "daemon state", object: unit + "\x00" + file}
	return recall(env.Memo, key, func() (*daemonState, error) {
		accounts := env.Memo.expects(accountFileKey(groupFile))
		state, err := readDaemonStateOf(ctx, env.Host, daemonStateQuery{unit: unit,
			file: file, mounts: "/proc/mounts", docker: env.Memo.expects(dockerStateKey),
			dockerInfo: env.Memo.expects(dockerInfoKey), accounts: accounts})
		if err != nil {
			return nil, err
		}
		if accounts {
			// A database that was not copied whole is read on its own, and a missing one
			// reads as empty.
			for _, path := range []string{groupFile, passwdFile} {
				text, exists := state.accountFiles[path]
				switch {
				case !exists:
					env.Memo.store(accountFileKey(path), "")
				case text != nil:
					env.Memo.store(accountFileKey(path), *text)
				}
			}
		}
		// A failed Docker read is left to the task that needs it, whose own read reports
		// the error, and one that needs docker info makes that read get it.
		docker, err := dockerStateFrom(state, file)
		switch {
		case docker != nil:
			env.Memo.store(dockerStateKey, docker)
		case errors.Is(err, errIdleUncertain):
			env.Memo.expect(dockerInfoKey)
		}
		// The script read the file too, so a read of it needs no SFTP session.
		switch {
		case state.file.kind == "missing":
			env.Memo.store(fileKey(file), (*transport.File)(nil))
		case state.file.content != nil:
			env.Memo.store(fileKey(file), state.file.content)
		}
		return state, nil
	})
}

func readDaemonStateOf(ctx context.Context, h Host, q daemonStateQuery) (*daemonState, error) {
	op := "read the state of " + unitFileName(q.unit)
	res, err := h.Run(ctx, q.script(), nil)
	if err != nil {
		return nil, &remoteError{op: op, err: err}
	}
	// The script ends with exit 0, so another status means that it did not run.
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("%s: exit status %d: %s", op, res.ExitCode,
			outputTail(res.Stderr, 3))
	}
	if res.Truncated {
		return nil, fmt.Errorf("%s: the report was cut at its size limit, so it cannot be "+
			"trusted: check the size of %s and of the files that docker.service names", op,
			q.file)
	}
	sections := splitLineSections(string(res.Stdout), 3)
	for len(sections) < 3 {
		sections = append(sections, "")
	}

	report := parseRemoteReport([]byte(sections[2]))
	unitProps := parseUnitProperties(sections[0])
	unitProps.envCopies = envFilesOf(report)
	cl, err := daemonCommandLineOf(ctx, h, q.unit, unitProps, sections[1])
	if err != nil {
		return nil, err
	}
	state := parseDaemonState(report)
	state.commandLine = cl
	state.runningArgv = strings.Fields(sections[1])
	state.unitLoaded = unitProps.loadState == "loaded"
	state.unitFound = state.unitFound || state.unitLoaded
	state.unitName = unitFileName(q.unit)
	return state, nil
}

// splitLineSections splits out into at most n sections at the lines that are
// sectionMarker alone. A marker inside a line, such as in a unit's Environment item, does
// not end a section.
func splitLineSections(out string, n int) []string {
	var sections []string
	start := 0
	for i := 0; len(sections) < n-1; {
		j := strings.Index(out[i:], sectionMarker+"\n")
		if j < 0 {
			break
		}
		j += i
		if j == 0 || out[j-1] == '\n' {
			sections = append(sections, out[start:j])
			start = j + len(sectionMarker) + 1
		}
		i = j + 1
	}
	return append(sections, out[start:])
}

// Prefixes of the report sections of daemonStateScriptBody about an environment file:
// its copy, or a mark that it is missing or not a regular file. The path follows.
const (
	envFileSection        = "envfile "
	envFileMissingSection = "envfile-missing "
	envFileOtherSection   = "envfile-other "
)

// envFilesOf returns what the state script found of each environment file, by path.
// Files that it did not copy whole are left out.
func envFilesOf(report remoteReport) map[string]envCopy {
	files := map[string]envCopy{}
	for name, body := range report.sections {
		if path, ok := strings.CutPrefix(name, envFileMissingSection); ok {
			files[path] = envCopy{kind: "missing"}
		} else if path, ok := strings.CutPrefix(name, envFileOtherSection); ok {
			files[path] = envCopy{kind: "other"}
		} else if path, ok := strings.CutPrefix(name, envFileSection); ok {
			if text, whole := copiedText(body); whole {
				files[path] = envCopy{kind: "regular", text: text}
			}
		}
	}
	return files
}

// parseDaemonState reads the report fields of daemonStateScriptBody.
func parseDaemonState(report remoteReport) *daemonState {
	f := report.fields
	state := &daemonState{
		unitFound:   f["init_script"] == "yes",
		execMissing: f["exec_missing"],
		dockerd:     f["dockerd"],
		running:     f["dockerd_running"] == "yes",
		file: fileState{
			kind:       f["file"],
			linkTarget: strings.TrimSuffix(report.sections["link"], "\n"),
			dir:        f["dir"],
			readOnly:   f["dir_read_only"] == "yes",
		},
	}
	state.started, _ = parseDaemonStart(f)
	state.file.changed, _ = parseStatTime(f["file_changed"])
	state.dockerSection = report.sections["docker_state"]
	state.accountFiles = map[string]*string{}
	for name, body := range report.sections {
		if path, ok := strings.CutPrefix(name, accountSectionPrefix); ok {
			state.accountFiles[path] = nil
			if text, whole := copiedText(body); whole {
				state.accountFiles[path] = &text
			}
		}
	}
	if state.file.kind == "regular" {
		state.file.content = parseInlineFile(f["file_meta"], f["file_data"], f["file_hex"])
	}
	return state
}

// parseInlineFile returns the file that the state script printed as file_meta ("MODE
// UID GID SIZE", with MODE in octal as stat's %a prints it) and file_data (base64) or
// file_hex, or nil when the content is missing or disagrees with the size.
func parseInlineFile(meta, data, hexData string) *transport.File {
	fields := strings.Fields(meta)
	if len(fields) != 4 {
		return nil
	}
	mode, errMode := strconv.ParseUint(fields[0], 8, 32)
	uid, errUID := strconv.Atoi(fields[1])
	gid, errGID := strconv.Atoi(fields[2])
	size, errSize := strconv.Atoi(fields[3])
	content, errData := base64.StdEncoding.DecodeString(data)
	if hexData != "" {
		content, errData = hex.DecodeString(hexData)
	}
	if errMode != nil || errUID != nil || errGID != nil || errSize != nil || errData != nil ||
		len(content) != size || mode > 0o7777 {
		return nil
	}
	return &transport.File{Data: content, Meta: transport.FileMeta{
		Mode: fileModeOf(uint32(mode)), UID: uid, GID: gid}}
}

// fileModeOf converts Unix permission bits, with setuid, setgid and sticky, to an
// fs.FileMode.
func fileModeOf(bits uint32) fs.FileMode {
	mode := fs.FileMode(bits & 0o777)
	if bits&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if bits&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if bits&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// userHZ is the unit of the start times in /proc/PID/stat, in ticks per second. The
// kernel fixes it at 100 on every architecture but Alpha, which Docker does not support,
// so the script spares a getconf CLK_TCK. A clock_ticks field overrides it.
const userHZ = 100

// parseDaemonStart returns the wall clock time at which the process that
// print_daemon_start described was started. Start ticks and uptime have a resolution of
// 10 ms on Linux, so the result is within about 20 ms of the true start.
// NOTE: a step of the wall clock, such as an NTP correction, between the start and the
// read shifts the result by the step, since uptime does not follow the wall clock.
func parseDaemonStart(fields map[string]string) (time.Time, bool) {
	ticks, errTicks := strconv.ParseFloat(fields["dockerd_start_ticks"], 64)
	perSecond, errRate := float64(userHZ), error(nil)
	if rate, present := fields["clock_ticks"]; present {
		perSecond, errRate = strconv.ParseFloat(rate, 64)
	}
	uptime, errUptime := strconv.ParseFloat(fields["uptime"], 64)
	now, ok := parseEpoch(fields["now"])
	if errTicks != nil || errRate != nil || errUptime != nil || !ok || perSecond <= 0 {
		return time.Time{}, false
	}

	boot := now.Add(-seconds(uptime))
	return boot.Add(seconds(ticks / perSecond)), true
}

// parseStatTime parses a time as stat's %y and %z print it, "2006-01-02 15:04:05.999999999
// -0700", with or without the fraction.
func parseStatTime(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", strings.TrimSpace(s))
	return t, err == nil
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}

// parseEpoch parses the output of date +%s.%N, or of date +%s where %N is not supported.
func parseEpoch(s string) (time.Time, bool) {
	whole, fraction, _ := strings.Cut(strings.TrimSpace(s), ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	nanos, err := strconv.ParseInt((fraction + "000000000")[:9], 10, 64)
	if err != nil {
		nanos = 0
	}
	return time.Unix(sec, nanos), true
}

// unitFileName returns the name of a unit's file, such as docker.service for docker.
func unitFileName(unit string) string {
	if strings.Contains(unit, ".") {
		return unit
	}
	return unit + ".service"
}

// checkTarget returns an error when the task must change nothing on the host: Docker is
// not installed, or path is a symbolic link, a directory or another file that is not a
// regular file.
func (s *daemonState) checkTarget(unit, path string) error {
	// NOTE: on a host where Docker was removed but not purged, /etc/init.d/docker is left,
	// and systemd generates docker.service from it, so the unit counts as found.
	if !s.unitFound && s.dockerd == "" {
		return fmt.Errorf("%s not found and no dockerd binary found: install Docker Engine "+
			"first", unitFileName(unit))
	}
	if s.execMissing != "" {
		return fmt.Errorf("%s runs %s, which does not exist: install Docker Engine first",
			unitFileName(unit), sanitizeOutput(s.execMissing, false))
	}
	switch s.file.kind {
	case "symlink":
		return fmt.Errorf("%s is a symbolic link to %s, and the task does not write "+
			"through links: point path at the target instead (the file was left unchanged)",
			path, sanitizeOutput(s.file.linkTarget, false))
	case "directory":
		return fmt.Errorf("%s is a directory: remove it or set path to a file", path)
	case "other":
		return fmt.Errorf("%s is not a regular file: remove it or set path to a file", path)
	}
	return nil
}

// checkWritable returns an error when a write of path would fail because its directory is
// on a read-only file system. SFTP reports that only as a generic failure.
func (s *daemonState) checkWritable(path string) error {
	if s.file.readOnly {
		return fmt.Errorf("write %s: %s is on a read-only file system: remount it "+
			"read-write, or set path to a file on a writable file system", path, s.file.dir)
	}
	return nil
}

// restartReason returns why the daemon must be restarted to run with the file as it is,
// or "". The file changed after the daemon started when its status change time (ctime)
// is later than the daemon's start time. Unlike the modification time, touch and cp -p
// cannot set it back. When either time is unknown, the file counts as
// unchanged. A daemon whose systemd unit is loaded but not running needs a start, so that
// the run leaves Docker running.
func (s *daemonState) restartReason() string {
	switch {
	case !s.running && s.unitLoaded:
		return s.unitName + " is not running"
	case !s.running:
		// Without a systemd unit, as on a host that only has the binary, a stopped daemon
		// reads the file as it is when it starts.
		return ""
	case !s.usesCurrentFile():
		return "the running daemon started before the file changed"
	}
	return ""
}

// usesCurrentFile reports whether the running daemon started after the file last
// changed. Unknown times count as yes.
func (s *daemonState) usesCurrentFile() bool {
	return s.started.IsZero() || s.file.changed.IsZero() || !s.file.changed.After(s.started)
}
