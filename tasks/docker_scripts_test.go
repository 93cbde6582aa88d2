package tasks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/transport"
)

// shellHost runs commands with the local /bin/sh and PATH set to path, and maps file
// paths under root.
type shellHost struct {
	path, root string
	fileReads  int // calls of ReadFile
}

var _ Host = (*shellHost)(nil)

func (h *shellHost) Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = []string{"PATH=" + h.path, "LC_ALL=C"}
	c.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = nil
	}
	return transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: c.ProcessState.ExitCode()}, err
}

func (h *shellHost) ReadFile(ctx context.Context, path string) (*transport.File, error) {
	h.fileReads++
	data, err := os.ReadFile(filepath.Join(h.root, path))
	if err != nil {
		return nil, err
	}
	return &transport.File{Data: data}, nil
}

func (h *shellHost) WriteFile(ctx context.Context, path string, data []byte, meta transport.FileMeta) error {
	return errors.New("shellHost: read only")
}

func (h *shellHost) Remove(ctx context.Context, path string) error {
	return errors.New("shellHost: read only")
}

// newShellHost returns a host whose PATH starts with the given fake commands, so they
// shadow any real docker, systemctl or pidof of the machine running the test.
func newShellHost(t *testing.T, commands map[string]string) *shellHost {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	bin := t.TempDir()
	h := &shellHost{path: bin + ":/usr/bin:/bin", root: t.TempDir()}
	for name, body := range commands {
		script := "#!/bin/sh\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// withDockerSocket points the docker scripts at the socket path for one test.
func withDockerSocket(t *testing.T, path string) {
	t.Helper()
	old := dockerSocket
	dockerSocket = path
	t.Cleanup(func() { dockerSocket = old })
}

// withListeningDockerSocket points the docker scripts at a unix socket that listens but
// never responds, so that they take the socket way, and returns its path. Tests that use
// it stand in for perl and curl.
func withListeningDockerSocket(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	withDockerSocket(t, sock)
	return sock
}

func TestVerifyScriptWithFakeDocker(t *testing.T) {
	fixtures, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
	h := newShellHost(t, map[string]string{
		"pidof": "exit 1",
		"docker": `case "$1" in
info) cat ` + fixtures + `/docker_info_apparmor.json ;;
ps) printf '3f2a1b9c0d1e\n8e7d6c5b4a39\n' ;;
inspect) [ "$#" -eq 3 ] || { echo "want 2 ids, got $*" >&2; exit 2; }
         cat ` + fixtures + `/docker_inspect_mixed.json ;;
esac`,
	})
	task := &verifyContainersTask{allowedCaps: map[string]bool{"ALL": true}, allowPrivileged: true}

	out := task.Run(context.Background(), &Env{Host: h})

	if out.Status != StatusOK || out.Message != "4 containers checked, all passed" {
		t.Errorf("outcome = %s %q", out.Status, out.Message)
	}
}

func TestVerifyScriptWithFakeCurl(t *testing.T) {
	fixtures, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	withListeningDockerSocket(t)
	curlLog := filepath.Join(t.TempDir(), "curl.log")
	h := newShellHost(t, map[string]string{
		"pidof":  "exit 1",
		"perl":   "exit 1",
		"docker": `echo "docker CLI used although curl can read the socket" >&2; exit 3`,
		"curl": `echo "$*" >>` + curlLog + `
for a in "$@"; do
	case $a in
	http://localhost/info) cat ` + fixtures + `/docker_info_apparmor.json ;;
	http://localhost/containers/json) printf '[{"Id":"3f2a1b9c"},{"Id":"8e7d6c5b"}]' ;;
	http://localhost/containers/gone/json) printf '{"message":"No such container: gone"}' ;;
	http://localhost/containers/*/json)
		id=${a#http://localhost/containers/}
		id=${id%/json}
		printf '{"Id":"%s","Name":"/c%s","AppArmorProfile":"docker-default",` +
			`"HostConfig":{"SecurityOpt":["no-new-privileges"]}}' "$id" "$id" ;;
	*) continue ;;
	esac
	case $a in
	*/gone/*) printf '\n--fleetharden-http 404\n' ;;
	*) printf '\n--fleetharden-http 200\n' ;;
	esac
done`,
	})
	task := &verifyContainersTask{requireNNP: true, requireSeccomp: true, requireAppArmor: true}

	out := task.Run(context.Background(), &Env{Host: h})

	if out.Status != StatusOK || out.Message != "2 containers checked, all passed" {
		t.Errorf("outcome = %s %q", out.Status, out.Message)
	}
	calls, err := os.ReadFile(curlLog)
	if err != nil {
		t.Fatal(err)
	}
	want := " http://localhost/containers/3f2a1b9c/json " +
		"http://localhost/containers/8e7d6c5b/json\n"
	if !strings.HasSuffix(string(calls), want) {
		t.Errorf("curl calls:\n%s\nwant the last to end with %q", calls, want)
	}
}

func TestVerifyScriptInspectErrors(t *testing.T) {
	fixtures, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, stderr, status, message string
	}{
		{"container removed meanwhile", "Error: No such object: 8e7d6c5b4a39",
			"failed", "4 containers checked, 3 failed"},
		{"daemon gone meanwhile", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
			"failed", "inspect the running containers: exit status 1: Cannot connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
			h := newShellHost(t, map[string]string{
				"pidof": "exit 1",
				"docker": `case "$1" in
info) cat ` + fixtures + `/docker_info_apparmor.json ;;
ps) printf '3f2a1b9c0d1e\n8e7d6c5b4a39\n' ;;
inspect) cat ` + fixtures + `/docker_inspect_mixed.json; echo '` + tt.stderr + `' >&2; exit 1 ;;
esac`,
			})

			out := (&verifyContainersTask{}).Run(context.Background(), &Env{Host: h})

			if string(out.Status) != tt.status || !strings.Contains(out.Message, tt.message) {
				t.Errorf("outcome = %s %q, want %s containing %q", out.Status, out.Message,
					tt.status, tt.message)
			}
		})
	}
}

func TestVerifyScriptWithPerl(t *testing.T) {
	perl := mustLookPath(t, "perl")
	fixtures, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.ReadFile(filepath.Join(fixtures, "docker_info_apparmor.json"))
	if err != nil {
		t.Fatal(err)
	}
	serveDockerAPI(t, map[string]string{
		"/info":            string(info),
		"/containers/json": `[{"Id":"3f2a1b9c"}]`,
		"/containers/3f2a1b9c/json": `{"Id":"3f2a1b9c","Name":"/web","AppArmorProfile":"docker-default",` +
			`"HostConfig":{"SecurityOpt":["no-new-privileges"]}}`,
	})
	h := newShellHost(t, map[string]string{
		"pidof":  "exit 1",
		"curl":   `echo "curl used although perl can read the socket" >&2; exit 3`,
		"docker": `echo "docker CLI used although perl can read the socket" >&2; exit 3`,
	})
	h.path += ":" + filepath.Dir(perl)
	task := &verifyContainersTask{requireNNP: true, requireSeccomp: true, requireAppArmor: true}

	out := task.Run(context.Background(), &Env{Host: h})

	if out.Status != StatusOK || out.Message != "1 container checked, all passed" {
		t.Errorf("outcome = %s %q", out.Status, out.Message)
	}
}

// serveDockerAPI serves GET requests for the paths of responses, and 404 for others, on
// a unix socket that the docker scripts then read. Every response has dockerd's Server
// header for version 24.0.7. It returns the paths requested so far.
func serveDockerAPI(t *testing.T, responses map[string]string) (requested func() []string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	var mu sync.Mutex
	var paths []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Server", "Docker/24.0.7 (linux)")
		body, ok := responses[r.URL.Path]
		if !ok {
			http.Error(w, `{"message":"page not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	withDockerSocket(t, sock)
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(paths)
	}
}

// mustLookPath returns the path of the program name, or skips the test without it.
func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("no %s here", name)
	}
	return path
}

func TestVerifyScriptCurlFailureFallsBack(t *testing.T) {
	fixtures, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	withListeningDockerSocket(t)
	h := newShellHost(t, map[string]string{
		"pidof": "exit 1",
		"perl":  "exit 1",
		"curl":  `echo "curl: broken build" >&2; exit 2`,
		"docker": `case "$1" in
info) cat ` + fixtures + `/docker_info_apparmor.json ;;
ps) printf '3f2a1b9c0d1e\n' ;;
inspect) cat ` + fixtures + `/docker_inspect_hardened.json ;;
esac`,
	})
	task := &verifyContainersTask{allowedCaps: map[string]bool{"NET_BIND_SERVICE": true}}

	out := task.Run(context.Background(), &Env{Host: h})

	if out.Status != StatusOK || out.Message != "2 containers checked, all passed" {
		t.Errorf("outcome = %s %q, want the docker CLI's read to pass", out.Status, out.Message)
	}
}

func TestVerifyScriptWithoutDocker(t *testing.T) {
	withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
	h := newShellHost(t, nil)
	h.path = t.TempDir() // an empty PATH directory, so that no installed docker is found

	out := (&verifyContainersTask{}).Run(context.Background(), &Env{Host: h})

	if out.Status != StatusFailed || !strings.Contains(out.Message, "docker: command not found") {
		t.Errorf("outcome = %s %q", out.Status, out.Message)
	}
}

// TestDaemonCommandLineScriptWithFakeSystemctl checks that the state read copies the
// environment files that ExecStart needs. The unit names them inside the test's root, so
// a file that the script does not copy is read from the same path under shellHost's root.
func TestDaemonCommandLineScriptWithFakeSystemctl(t *testing.T) {
	big := strings.Repeat("# a comment line of about forty bytes\n", 8000) + "DOCKER_OPTS=-D\n"
	long := "X=" + strings.Repeat("a", 100_000) + "\nDOCKER_OPTS=-D\n"
	huge := "X=" + strings.Repeat("a", 1_500_000) + "\nDOCKER_OPTS=-D\n"
	tests := []struct {
		name  string
		flag  string // the EnvironmentFile line's ignore_errors flag
		make  func(t *testing.T, path string)
		flags string // the command line's flags; "" for an error
		err   string // part of the expected error
		reads int    // files read apart from the state read
	}{
		{name: "file", flag: "yes",
			make:  textFile("# Options\nDOCKER_OPTS=\"--log-level=warn -D\"\n"),
			flags: "-H fd:// --log-level=warn -D"},
		{name: "marker-like line", flag: "no",
			make:  textFile("--- fleetharden docker_state\nDOCKER_OPTS=-D"),
			flags: "-H fd:// -D"},
		{name: "line of 100 kB", flag: "no", make: textFile(long), flags: "-H fd:// -D"},
		{name: "line of 1.5 MB", flag: "no", make: textFile(huge), flags: "-H fd:// -D",
			reads: 1},
		{name: "over the copy limit", flag: "no", make: textFile(big), flags: "-H fd:// -D",
			reads: 1},
		{name: "optional missing file", flag: "yes", make: func(*testing.T, string) {},
			flags: "-H fd://"},
		{name: "required missing file", flag: "no", make: func(*testing.T, string) {},
			err: "does not exist"},
		{name: "optional directory", flag: "yes", make: directory, flags: "-H fd://"},
		{name: "required directory", flag: "no", make: directory, err: "not a regular file"},
		{name: "required fifo", flag: "no", make: fifo, err: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			file := filepath.Join(root, "etc", "default", "docker")
			h := newShellHost(t, map[string]string{
				"pidof": "exit 1",
				"systemctl": `[ "$*" = "show -p ExecStart -p EnvironmentFiles -p Environment -p LoadState -p MainPID -- docker" ] || exit 1
echo 'ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS ; ignore_errors=no }'
echo 'EnvironmentFiles=` + file + ` (ignore_errors=` + tt.flag + `)'
echo 'Environment='`,
			})
			tt.make(t, file)
			if info, err := os.Stat(file); err == nil && info.Mode().IsRegular() {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				writeTestFile(t, filepath.Join(h.root, file), string(data))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			state, err := readDaemonState(ctx, &Env{Host: h}, "docker", "/etc/docker/daemon.json")

			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), "read environment file "+file) ||
					!strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want the file named and %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := flagTexts(state.commandLine.Flags); got != tt.flags {
				t.Errorf("flags = %q, want %q", got, tt.flags)
			}
			if h.fileReads != tt.reads {
				t.Errorf("read %d files apart from the state read, want %d", h.fileReads, tt.reads)
			}
		})
	}
}

// textFile returns a function that writes content to a path.
func textFile(content string) func(*testing.T, string) {
	return func(t *testing.T, path string) { writeTestFile(t, path, content) }
}

func directory(t *testing.T, path string) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func fifo(t *testing.T, path string) {
	directory(t, filepath.Dir(path))
	makeFIFO(t, path)
}

func TestDaemonStateScriptWithFakeCommands(t *testing.T) {
	sleeper := exec.Command("sleep", "60")
	before := time.Now()
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })

	h := newShellHost(t, map[string]string{
		"pidof": "exit 1",
		"systemctl": fmt.Sprintf(`d=$(command -v dockerd)
echo "ExecStart={ path=$d ; argv[]=$d -H fd:// ; ignore_errors=no }"
echo LoadState=loaded
echo MainPID=%d`, sleeper.Process.Pid),
		"dockerd": `[ "$1" = --help ] && echo '      --validate    Validate daemon configuration and exit'`,
	})
	root := t.TempDir()
	regular := filepath.Join(root, "etc", "docker", "daemon.json")
	writeTestFile(t, regular, "{}\n")
	link := filepath.Join(root, "link.json")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "dir.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	mounts := filepath.Join(root, "mounts")
	writeTestFile(t, mounts, "rootfs / rootfs rw 0 0\n"+
		"tmpfs "+strings.ReplaceAll(filepath.Join(root, "etc"), " ", `\040`)+" tmpfs ro,nosuid 0 0\n")

	read := func(file string) *daemonState {
		t.Helper()
		state, err := readDaemonStateOf(context.Background(), h,
			daemonStateQuery{unit: "docker", file: file, mounts: mounts})
		if err != nil {
			t.Fatal(err)
		}
		return state
	}

	s := read(regular)
	if !s.unitFound || !s.running || !strings.HasSuffix(s.dockerd, "/dockerd") {
		t.Errorf("unit found %t, running %t, dockerd %q; want all set",
			s.unitFound, s.running, s.dockerd)
	}
	if early, late := before.Add(-100*time.Millisecond), after.Add(100*time.Millisecond); s.started.Before(early) || s.started.After(late) {
		t.Errorf("started = %s, want between %s and %s", s.started, early, late)
	}
	info, _ := os.Stat(regular)
	ctime := changeTime(t, info)
	if s.file.kind != "regular" || !s.file.changed.Equal(ctime) {
		t.Errorf("file %s changed %s, want regular changed %s", s.file.kind,
			s.file.changed, ctime)
	}
	// A file put back with an old modification time still counts as changed. The start
	// time is known to about 20 ms, so the change comes well after that.
	time.Sleep(100 * time.Millisecond)
	past := before.Add(-24 * time.Hour)
	if err := os.Chtimes(regular, past, past); err != nil {
		t.Fatal(err)
	}
	if s := read(regular); !s.file.changed.After(s.started) || s.restartReason() == "" {
		t.Errorf("file changed %s, daemon started %s: want the change after the start",
			s.file.changed, s.started)
	}
	if s.file.dir != filepath.Dir(regular) || !s.file.readOnly {
		t.Errorf("dir %q read-only %t, want %q read-only", s.file.dir, s.file.readOnly,
			filepath.Dir(regular))
	}

	if s.execMissing != "" {
		t.Errorf("execMissing = %q, want \"\" for an existing dockerd", s.execMissing)
	}

	if s := read(link); s.file.kind != "symlink" || s.file.linkTarget != regular {
		t.Errorf("link: kind %q target %q, want symlink to %q", s.file.kind, s.file.linkTarget, regular)
	}
	if s := read(filepath.Join(root, "dir.json")); s.file.kind != "directory" {
		t.Errorf("directory: kind %q", s.file.kind)
	}
	missing := filepath.Join(root, "no such", "dir", "daemon.json")
	if s := read(missing); s.file.kind != "missing" || s.file.dir != root || s.file.readOnly {
		t.Errorf("missing: kind %q dir %q read-only %t, want missing in writable %q",
			s.file.kind, s.file.dir, s.file.readOnly, root)
	}
}

func TestDaemonStateScriptReadsFile(t *testing.T) {
	h := newShellHost(t, map[string]string{"pidof": "exit 1", "systemctl": "exit 1"})
	root := t.TempDir()
	small := filepath.Join(root, "daemon.json")
	content := "{\"labels\": [\"a=b\"]}\n\n--- fleetharden link\n\x00\xff"
	writeTestFile(t, small, content)
	if err := os.Chmod(small, 0o640|fs.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	large := filepath.Join(root, "large.json")
	writeTestFile(t, large, strings.Repeat("x", maxInlineFile+1))
	env := &Env{Host: h, Memo: NewMemo()}

	state, err := readDaemonState(context.Background(), env, "docker", small)

	if err != nil {
		t.Fatal(err)
	}
	f := state.file.content
	if f == nil {
		t.Fatal("the state script returned no content for a small regular file")
	}
	if string(f.Data) != content {
		t.Errorf("content = %q, want %q", f.Data, content)
	}
	if want := fs.FileMode(0o640) | fs.ModeSetgid; f.Meta.Mode != want {
		t.Errorf("mode = %v, want %v", f.Meta.Mode, want)
	}
	if f.Meta.UID != os.Getuid() || f.Meta.GID != os.Getgid() {
		t.Errorf("owner = %d:%d, want %d:%d", f.Meta.UID, f.Meta.GID, os.Getuid(), os.Getgid())
	}
	// shellHost.ReadFile looks under its own root, where the file does not exist, so
	// only the memo can return the content.
	got, err := readFileIfExists(context.Background(), env, small)
	if err != nil || got == nil || string(got.Data) != content {
		t.Errorf("memoized read = %v, %v; want the script's content", got, err)
	}

	state, err = readDaemonState(context.Background(), env, "docker", large)
	if err != nil {
		t.Fatal(err)
	}
	if state.file.content != nil {
		t.Errorf("the state script returned a file over %d bytes", maxInlineFile)
	}
}

func TestParseInlineFile(t *testing.T) {
	tests := []struct {
		name, meta, data, hex string
		ok                    bool
	}{
		{"valid", "644 0 0 3", "YWJj", "", true},
		{"size mismatch", "644 0 0 4", "YWJj", "", false},
		{"bad base64", "644 0 0 3", "YW!j", "", false},
		{"mode not octal", "9x4 0 0 3", "YWJj", "", false},
		{"missing fields", "644 0 3", "YWJj", "", false},
		{"no data", "644 0 0 3", "", "", false},
		{"empty file", "644 0 0 0", "", "", true},
		{"hex", "644 0 0 3", "", "616263", true},
		{"hex size mismatch", "644 0 0 2", "", "616263", false},
		{"bad hex", "644 0 0 3", "", "61626x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseInlineFile(tt.meta, tt.data, tt.hex)
			if (got != nil) != tt.ok {
				t.Errorf("parseInlineFile(%q, %q, %q) = %v, want ok %t", tt.meta, tt.data, tt.hex,
					got, tt.ok)
			}
			if got != nil && tt.hex != "" && string(got.Data) != "abc" {
				t.Errorf("content %q, want %q", got.Data, "abc")
			}
		})
	}
}

func TestDaemonStateScriptWithoutSystemd(t *testing.T) {
	h := newShellHost(t, map[string]string{"pidof": "exit 1",
		"systemctl": "echo 'System has not been booted with systemd' >&2; exit 1"})

	state, err := readDaemonStateOf(context.Background(), h,
		daemonStateQuery{unit: "docker", file: "/nonexistent/daemon.json", mounts: "/proc/mounts"})

	if err != nil {
		t.Fatal(err)
	}
	if state.running || state.commandLine.Source != "" {
		t.Errorf("running %t, command line from %q, want no daemon", state.running,
			state.commandLine.Source)
	}
	if state.file.kind != "missing" || state.file.dir != "/" {
		t.Errorf("file %q in %q, want missing in /", state.file.kind, state.file.dir)
	}
}

func TestValidateScriptWithFakeDockerd(t *testing.T) {
	log := filepath.Join(t.TempDir(), "dockerd.log")
	h := newShellHost(t, map[string]string{
		"dockerd": `if [ "$1" = --help ]; then echo "      --validate   Validate daemon configuration and exit"; exit 0; fi
[ "$1 $2" = "--validate --config-file" ] || exit 3
dir=$(dirname "$3")
echo "$dir $(stat -c %a "$dir")" >` + log + `
if grep -q banana "$3"; then
	echo "unable to configure the Docker daemon with file $3: invalid size: 'banana'" >&2
	exit 1
fi
echo "configuration OK"`,
	})
	dockerd := h.path[:strings.IndexByte(h.path, ':')] + "/dockerd"
	ctx := context.Background()

	if err := validateDaemonFile(ctx, h, dockerd, "/etc/docker/daemon.json", []byte(`{"debug": true}`),
		"the new /etc/docker/daemon.json"); err != nil {
		t.Errorf("valid file: %v", err)
	}
	err := validateDaemonFile(ctx, h, dockerd, "/etc/docker/daemon.json",
		[]byte(`{"log-opts": {"max-size": "banana"}}`), "the new /etc/docker/daemon.json")
	want := "dockerd --validate rejected the new /etc/docker/daemon.json: unable to configure " +
		"the Docker daemon with file /etc/docker/daemon.json: invalid size: 'banana' (the " +
		"file was left unchanged)"
	if err == nil || err.Error() != want {
		t.Errorf("invalid file: error = %v, want %q", err, want)
	}

	logged, _ := os.ReadFile(log)
	dir, mode, _ := strings.Cut(strings.TrimSpace(string(logged)), " ")
	if mode != "700" {
		t.Errorf("temporary directory %s has mode %s, want 700", dir, mode)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory %s left behind: %v", dir, err)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// countingHost counts the commands run on a shellHost.
type countingHost struct {
	*shellHost
	runs int
}

func (h *countingHost) Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error) {
	h.runs++
	return h.shellHost.Run(ctx, cmd, stdin)
}

// withDockerDaemonJSON points the Docker state at path as dockerd's daemon.json.
func withDockerDaemonJSON(t *testing.T, path string) {
	t.Helper()
	old := dockerDaemonJSON
	dockerDaemonJSON = path
	t.Cleanup(func() { dockerDaemonJSON = old })
}

// dockerInfoHost is a host without a running dockerd whose docker info reports an empty
// daemon.
func dockerInfoHost(t *testing.T) *countingHost {
	return &countingHost{shellHost: newShellHost(t, map[string]string{
		"pidof": "exit 1", "systemctl": "exit 1",
		"docker": `[ "$1" = info ] || exit 3
printf '{"ServerVersion":"24.0.7","Containers":0,"SecurityOptions":["name=seccomp,profile=builtin"]}'`,
	})}
}

func TestDaemonStateReadsDockerForLaterTasks(t *testing.T) {
	withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
	file := filepath.Join(t.TempDir(), "daemon.json")
	writeTestFile(t, file, `{"no-new-privileges": true}`)
	withDockerDaemonJSON(t, file)
	h := dockerInfoHost(t)
	env := &Env{Host: h, Memo: NewMemoFor([]Task{dockerFactsTask{}, &verifyContainersTask{}})}

	if _, err := readDaemonState(context.Background(), env, "docker", file); err != nil {
		t.Fatal(err)
	}
	facts := dockerFactsTask{}.Run(context.Background(), env)
	verify := (&verifyContainersTask{requireSeccomp: true}).Run(context.Background(), env)
	docker, err := readDockerState(context.Background(), env, false)

	if facts.Status != StatusOK || facts.Facts["docker_version"] != "24.0.7" {
		t.Errorf("docker_facts = %s %q %v, want ok with version 24.0.7", facts.Status,
			facts.Message, facts.Facts)
	}
	if verify.Status != StatusOK || verify.Message != "no running containers" {
		t.Errorf("verify_containers = %s %q, want ok", verify.Status, verify.Message)
	}
	if err != nil || !docker.daemonNNP {
		t.Errorf("Docker state %+v, %v; want no-new-privileges from the file", docker, err)
	}
	if h.runs != 1 {
		t.Errorf("ran %d commands, want the daemon state command only", h.runs)
	}
}

func TestDaemonStateOtherFileDockerRead(t *testing.T) {
	withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "daemon.json"), `{"no-new-privileges": true}`)
	withDockerDaemonJSON(t, filepath.Join(dir, "daemon.json"))
	other := filepath.Join(dir, "other.json")
	writeTestFile(t, other, `{}`)
	h := dockerInfoHost(t)
	env := &Env{Host: h, Memo: NewMemoFor([]Task{dockerFactsTask{}})}

	if _, err := readDaemonState(context.Background(), env, "docker", other); err != nil {
		t.Fatal(err)
	}
	docker, err := readDockerState(context.Background(), env, false)

	if err != nil || !docker.daemonNNP {
		t.Errorf("Docker state %+v, %v; want no-new-privileges from dockerd's file", docker, err)
	}
	if h.runs != 2 {
		t.Errorf("ran %d commands, want a Docker read of its own", h.runs)
	}
}

func TestDaemonStateDockerReadFailureLeftToTask(t *testing.T) {
	withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
	h := &countingHost{shellHost: newShellHost(t, map[string]string{
		"pidof": "exit 1", "systemctl": "exit 1",
		"docker": `echo "Cannot connect to the Docker daemon" >&2; exit 1`,
	})}
	env := &Env{Host: h, Memo: NewMemoFor([]Task{dockerFactsTask{}})}

	if _, err := readDaemonState(context.Background(), env, "docker", "/nonexistent/daemon.json"); err != nil {
		t.Fatalf("the daemon state read failed with the Docker read: %v", err)
	}
	facts := dockerFactsTask{}.Run(context.Background(), env)

	if facts.Status != StatusFailed || !strings.Contains(facts.Message, "Cannot connect") {
		t.Errorf("docker_facts = %s %q, want the daemon's error", facts.Status, facts.Message)
	}
	if h.runs != 2 {
		t.Errorf("ran %d commands, want a read of its own after the failed one", h.runs)
	}
}

func TestDaemonStateReadsAccountsForGroupTasks(t *testing.T) {
	withDockerSocket(t, filepath.Join(t.TempDir(), "missing.sock"))
	want, err := os.ReadFile(groupFile)
	if err != nil {
		t.Skipf("no %s here: %v", groupFile, err)
	}
	h := &countingHost{shellHost: newShellHost(t, map[string]string{
		"pidof": "exit 1", "systemctl": "exit 1",
	})}
	group := &groupTask{name: "root"}
	env := &Env{Host: h, Memo: NewMemoFor([]Task{group})}

	if _, err := readDaemonState(context.Background(), env, "docker", "/nonexistent/daemon.json"); err != nil {
		t.Fatal(err)
	}
	text, err := readAccountFile(context.Background(), env, groupFile)
	out := group.Run(context.Background(), env)

	if err != nil || text != string(want) {
		t.Errorf("memo holds %s as %q, %v; want the file's text", groupFile, text, err)
	}
	if out.Status != StatusOK || !strings.Contains(out.Message, "group root exists") {
		t.Errorf("group = %s %q, want ok", out.Status, out.Message)
	}
	if h.runs != 1 {
		t.Errorf("ran %d commands, want the daemon state command only", h.runs)
	}
}

// perlShellHost returns a counting host whose docker scripts can read the Docker API
// with perl only.
func perlShellHost(t *testing.T) *countingHost {
	perl := mustLookPath(t, "perl")
	h := newShellHost(t, map[string]string{
		"pidof": "exit 1", "systemctl": "exit 1",
		"curl":   `echo "curl used although perl can read the socket" >&2; exit 3`,
		"docker": `echo "docker CLI used although perl can read the socket" >&2; exit 3`,
	})
	h.path += ":" + filepath.Dir(perl)
	return &countingHost{shellHost: h}
}

// seccompFilters reports whether this machine's kernel lists seccomp filter actions, as
// the idle daemon's report requires.
func seccompFilters() bool {
	_, err := os.Stat("/proc/sys/kernel/seccomp/actions_avail")
	return err == nil
}

func TestDockerStateIdleDaemonReads(t *testing.T) {
	// docker info counts two containers, so verify_containers lists the running ones
	// wherever the state comes from docker info.
	info := `{"ServerVersion":"24.0.7","Driver":"overlay2","Containers":2,` +
		`"SecurityOptions":["name=seccomp,profile=unconfined"]}`
	busy := `[{"Id":"3f2a1b9c"}]`
	tests := []struct {
		name       string
		containers string // the response to /containers/json
		daemonJSON string
		facts      dockerFactsTask
		wantInfo   bool // docker info is read
		wantFault  bool // verify_containers reports the daemon's unconfined seccomp
		wantRuns   int  // commands run
	}{
		{name: "idle", containers: "[]\n", daemonJSON: `{"icc": false}`,
			facts: dockerFactsTask{facts: []string{"docker_version"}}, wantRuns: 1},
		{name: "containers running", containers: busy, daemonJSON: `{}`,
			facts: dockerFactsTask{facts: []string{"docker_version"}}, wantInfo: true,
			wantFault: true, wantRuns: 2},
		{name: "profile in daemon.json", containers: "[]\n",
			daemonJSON: `{"seccomp-profile": "unconfined"}`,
			facts:      dockerFactsTask{facts: []string{"docker_version"}}, wantInfo: true,
			wantFault: true, wantRuns: 3},
		{name: "every fact", containers: "[]\n", daemonJSON: `{}`, wantInfo: true,
			wantFault: true, wantRuns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requested := serveDockerAPI(t, map[string]string{
				"/info": info, "/containers/json": tt.containers,
				"/containers/3f2a1b9c/json": `{"Id":"3f2a1b9c","Name":"/web"}`,
			})
			file := filepath.Join(t.TempDir(), "daemon.json")
			writeTestFile(t, file, tt.daemonJSON)
			withDockerDaemonJSON(t, file)
			h := perlShellHost(t)
			verify := &verifyContainersTask{requireSeccomp: true}
			env := &Env{Host: h, Memo: NewMemoFor([]Task{tt.facts, verify})}
			if !seccompFilters() {
				tt.wantInfo, tt.wantFault = true, true
			}

			if _, err := readDaemonState(context.Background(), env, "docker", file); err != nil {
				t.Fatal(err)
			}
			facts := tt.facts.Run(context.Background(), env)
			checked := verify.Run(context.Background(), env)

			if facts.Status != StatusOK || facts.Facts["docker_version"] != "24.0.7" {
				t.Errorf("docker_facts = %s %q %v, want version 24.0.7", facts.Status,
					facts.Message, facts.Facts)
			}
			if got := strings.Contains(checked.Message, "seccomp disabled"); got != tt.wantFault {
				t.Errorf("verify_containers = %s %q, want the daemon's seccomp fault: %v",
					checked.Status, checked.Message, tt.wantFault)
			}
			if got := slices.Contains(requested(), "/info"); got != tt.wantInfo {
				t.Errorf("requests %v, want /info read: %v", requested(), tt.wantInfo)
			}
			if seccompFilters() && h.runs != tt.wantRuns {
				t.Errorf("ran %d commands, want %d", h.runs, tt.wantRuns)
			}
		})
	}
}

func TestServerVersion(t *testing.T) {
	tests := []struct {
		header, version string
		ok              bool
	}{
		{"Docker/24.0.7 (linux)", "24.0.7", true},
		{"Docker/20.10.24+dfsg1 (linux)", "20.10.24+dfsg1", true},
		{"Docker/ (linux)", "", false},
		{"Libpod/4.3.1 (linux)", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		version, ok := serverVersion(tt.header)
		if version != tt.version || ok != tt.ok {
			t.Errorf("serverVersion(%q) = %q, %t; want %q, %t", tt.header, version, ok,
				tt.version, tt.ok)
		}
	}
}

func TestDockerStateOtherServerReadsInfo(t *testing.T) {
	fields := map[string]string{"server": "Libpod/4.3.1 (linux)", "seccomp_filter": "yes"}

	err := (&dockerState{}).setIdle(fields, nil, nil, true)

	if !errors.Is(err, errIdleUncertain) {
		t.Errorf("setIdle = %v, want errIdleUncertain so that docker info is read", err)
	}
}

func TestDockerStateIdleStaleFileReadsInfo(t *testing.T) {
	fields := map[string]string{"server": "Docker/24.0.7 (linux)", "seccomp_filter": "yes"}

	current := (&dockerState{}).setIdle(fields, []byte(`{}`), nil, true)
	stale := (&dockerState{}).setIdle(fields, []byte(`{}`), nil, false)

	if current != nil {
		t.Errorf("setIdle with a current file = %v, want nil", current)
	}
	if !errors.Is(stale, errIdleUncertain) {
		t.Errorf("setIdle with a file newer than the daemon = %v, want errIdleUncertain", stale)
	}
}

func TestDockerFactsLaterNeedsFullInfo(t *testing.T) {
	requested := serveDockerAPI(t, map[string]string{
		"/info":            `{"ServerVersion":"24.0.7","Driver":"overlay2"}`,
		"/containers/json": "[]\n",
	})
	h := perlShellHost(t)
	version := dockerFactsTask{facts: []string{"docker_version"}}
	all := dockerFactsTask{}
	env := &Env{Host: h, Memo: NewMemoFor([]Task{version})}

	first := version.Run(context.Background(), env)
	second := all.Run(context.Background(), env)

	if first.Facts["docker_version"] != "24.0.7" || len(first.Facts) != 1 {
		t.Errorf("version facts = %v, want docker_version only", first.Facts)
	}
	if second.Facts["docker_storage_driver"] != "overlay2" {
		t.Errorf("all facts = %v, want the storage driver from docker info", second.Facts)
	}
	if !slices.Contains(requested(), "/info") {
		t.Errorf("requests %v, want /info for the second task", requested())
	}
}

func TestCopyTextLimitInScript(t *testing.T) {
	if want := "-le " + strconv.Itoa(copyTextLimit) + " ]"; !strings.Contains(copyTextScript, want) {
		t.Errorf("copy_text does not test %q", want)
	}
	if want := "> " + strconv.Itoa(copyTextLimit) + ";"; !strings.Contains(perlUnitProperties, want) {
		t.Errorf("perlUnitProperties does not test %q", want)
	}
}

func TestCopyTextStopsAtLimit(t *testing.T) {
	tests := []struct {
		name, content string
		whole         bool
	}{
		{"small", "docker:x:999:alice\nstaff:x:50:\n", true},
		{"no final newline", "docker:x:999:alice", true},
		{"empty", "", true},
		{"over the limit", strings.Repeat("g:x:1:"+strings.Repeat("u", 90)+"\n", 3000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newShellHost(t, nil)
			file := filepath.Join(t.TempDir(), "group")
			writeTestFile(t, file, tt.content)

			res, err := h.Run(context.Background(), copyTextScript+"copy_text 'account x' "+
				Quote(file), nil)
			if err != nil {
				t.Fatal(err)
			}
			report := parseRemoteReport(res.Stdout)
			got, whole := copiedText(report.sections["account x"])

			if whole != tt.whole {
				t.Fatalf("whole = %t, want %t", whole, tt.whole)
			}
			want := tt.content
			if want != "" && !strings.HasSuffix(want, "\n") {
				want += "\n"
			}
			if tt.whole && got != want {
				t.Errorf("copy = %q, want %q", got, want)
			}
		})
	}
}

func TestPartialAccountCopyLeftOut(t *testing.T) {
	report := parseRemoteReport([]byte("file=missing\n" +
		"--- fleetharden account /etc/group\n|docker:x:999:\n" +
		"--- fleetharden account /etc/passwd\n|root:x:0:0::/root:/bin/sh\nend\n"))

	state := parseDaemonState(report)

	if text, ok := state.accountFiles["/etc/group"]; !ok || text != nil {
		t.Errorf("/etc/group = %v, %t; want present but not copied", text, ok)
	}
	if text := state.accountFiles["/etc/passwd"]; text == nil || *text != "root:x:0:0::/root:/bin/sh\n" {
		t.Errorf("/etc/passwd = %v, want its line", text)
	}
}
