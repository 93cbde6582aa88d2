package tasks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

// fakeSystemctl records its calls and keeps the unit's state in files under $FAKE:
// "active" exists while the unit runs, "fail-action" makes start, restart and reload
// fail, "hang-action" makes them hang and "stay-inactive" makes them succeed without
// activating the unit. reset-failed is recorded and does nothing else.
const fakeSystemctl = `#!/bin/sh
echo "systemctl $*" >>"$FAKE/calls"
case $1 in
is-active)
	[ "$2" = -q ] || { echo "is-active without -q" >&2; exit 9; }
	[ -f "$FAKE/active" ] ;;
start|restart|reload)
	if [ -f "$FAKE/hang-action" ]; then sleep 30; fi
	if [ -f "$FAKE/fail-action" ]; then
		echo "Job for $2.service failed because the control process exited with error code." >&2
		exit 1
	fi
	[ -f "$FAKE/stay-inactive" ] || touch "$FAKE/active" ;;
reset-failed) ;;
*)
	echo "unexpected systemctl call: $*" >&2; exit 9 ;;
esac
`

// fakeInitScript is a System V init script with the same state files as fakeSystemctl.
const fakeInitScript = `#!/bin/sh
echo "init.d $*" >>"$FAKE/calls"
case $1 in
status) [ -f "$FAKE/active" ] ;;
start|restart|reload)
	[ -f "$FAKE/fail-action" ] && { echo "failed to start" >&2; exit 1; }
	touch "$FAKE/active" ;;
esac
`

// fakeService forwards "service NAME ACTION" to the init script's logic.
const fakeService = `#!/bin/sh
echo "service $*" >>"$FAKE/calls"
case $2 in
status) [ -f "$FAKE/active" ] ;;
*) touch "$FAKE/active" ;;
esac
`

// fakeJournalctl prints its arguments and two log lines.
const fakeJournalctl = `#!/bin/sh
echo "journalctl $*"
echo "level=error msg=\"failed to start daemon: invalid daemon.json\""
`

// fakeHealth succeeds from the call number in $FAKE/healthy-after on, and never when
// that file is absent.
const fakeHealth = `#!/bin/sh
n=$(cat "$FAKE/health-count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$FAKE/health-count"
if [ -f "$FAKE/healthy-after" ] && [ "$n" -ge "$(cat "$FAKE/healthy-after")" ]; then
	echo "24.0.5"
	exit 0
fi
echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2
exit 1
`

// fakeInit is a temporary tree with fake init tools, in which service scripts run
// locally with /bin/sh.
type fakeInit struct {
	dir        string // $FAKE: state files and the calls log
	bin        string
	systemdDir string
	initDir    string
	logDir     string
}

// newFakeInit builds the tree. With systemd false, the systemd marker directory does
// not exist, so scripts use the init script in initDir.
func newFakeInit(t *testing.T, systemd bool) *fakeInit {
	t.Helper()
	root := t.TempDir()
	f := &fakeInit{
		dir:        filepath.Join(root, "state"),
		bin:        filepath.Join(root, "bin"),
		systemdDir: filepath.Join(root, "run-systemd-system"),
		initDir:    filepath.Join(root, "init.d"),
		logDir:     filepath.Join(root, "log"),
	}
	for _, dir := range []string{f.dir, f.bin, f.initDir, f.logDir} {
		mustMkdir(t, dir)
	}
	if systemd {
		mustMkdir(t, f.systemdDir)
	}

	writeExecutable(t, filepath.Join(f.bin, "systemctl"), fakeSystemctl)
	writeExecutable(t, filepath.Join(f.bin, "journalctl"), fakeJournalctl)
	writeExecutable(t, filepath.Join(f.bin, "service"), fakeService)
	writeExecutable(t, filepath.Join(f.bin, "fake-health"), fakeHealth)
	return f
}

// set creates or removes a state file.
func (f *fakeInit) set(t *testing.T, name string, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// calls returns the commands the fakes were run with.
func (f *fakeInit) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, "calls"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// config returns a script configuration that points at the fake tree.
func (f *fakeInit) config(unit, action string, timeout time.Duration,
	healthCmd string) serviceScriptConfig {
	return serviceScriptConfig{
		unit: unit, action: action, timeout: timeout, healthCmd: healthCmd,
		systemdDir: f.systemdDir, initDir: f.initDir, logDir: f.logDir,
	}
}

// run runs a script with /bin/sh with the fakes first on PATH.
func (f *fakeInit) run(t *testing.T, script string) transport.Result {
	t.Helper()
	return runLocalScript(t, script, f.bin, f.dir)
}

// host returns a fake host that runs service scripts locally in the fake tree, after
// pointing the paths of a real host at it.
func (f *fakeInit) host(t *testing.T) *tasktest.Host {
	host := tasktest.NewHost()
	host.Handle("export LC_ALL=C", func(cmd string, _ []byte) transport.Result {
		cmd = replaceScriptVar(t, cmd, "systemd_dir", f.systemdDir)
		cmd = replaceScriptVar(t, cmd, "init_dir", f.initDir)
		cmd = replaceScriptVar(t, cmd, "log_dir", f.logDir)
		return f.run(t, cmd)
	})
	return host
}

// replaceScriptVar replaces the value of a variable set at the top of a script.
func replaceScriptVar(t *testing.T, script, name, value string) string {
	t.Helper()
	lines := strings.Split(script, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, name+"=") {
			lines[i] = name + "=" + Quote(value)
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("script sets no variable %s", name)
	return ""
}

// runLocalScript runs script with /bin/sh, with bin first on PATH and $FAKE set to state.
func runLocalScript(t *testing.T, script, bin, state string) transport.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin", "FAKE=" + state}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	res := transport.Result{Stdout: []byte(stdout.String()), Stderr: []byte(stderr.String())}
	if exitErr, ok := err.(*exec.ExitError); ok {
		res.ExitCode = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run script: %v", err)
	}
	if strings.Contains(stderr.String(), "Syntax error") || strings.Contains(stderr.String(),
		"syntax error") {
		t.Fatalf("script has a syntax error: %s", stderr.String())
	}
	return res
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeExecutable(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestServiceScriptSyntax(t *testing.T) {
	script := serviceScript(hostServiceScript("docker", "restart", time.Minute, dockerHealthCmd))
	out, err := exec.Command("/bin/sh", "-n", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh -n: %v: %s", err, out)
	}
}

func TestServiceScriptRestartBecomesHealthy(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, true)
	f.set(t, "healthy-after", "3")

	res := f.run(t, serviceScript(f.config("docker", "restart", 10*time.Second, "fake-health")))
	report := parseRemoteReport(res.Stdout)

	if got := report.fields["init"]; got != "systemd" {
		t.Errorf("init = %q, want systemd", got)
	}
	if got := report.fields["result"]; got != "healthy" {
		t.Fatalf("result = %q, want healthy; stdout: %s; stderr: %s", got, res.Stdout, res.Stderr)
	}
	assertStrings(t, "calls", f.calls(t), []string{
		"systemctl reset-failed docker",
		"systemctl restart docker",
		"systemctl is-active -q docker",
		"systemctl is-active -q docker",
		"systemctl is-active -q docker",
	})
	if cs, _ := strconv.Atoi(report.fields["elapsed_cs"]); cs < 100 {
		t.Errorf("elapsed_cs = %d, want at least 100 after two 0.5 s waits", cs)
	}
	if _, ok := report.sections["log"]; ok {
		t.Errorf("a healthy service printed its log")
	}
}

func TestServiceScriptTimesOutWithLog(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, true)
	start := time.Now()

	res := f.run(t, serviceScript(f.config("docker", "restart", time.Second, "fake-health")))
	report := parseRemoteReport(res.Stdout)

	if got := report.fields["result"]; got != "timeout" {
		t.Fatalf("result = %q, want timeout; stdout: %s", got, res.Stdout)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("script ran %s with a 1 s timeout", elapsed)
	}
	if got := report.fields["health_status"]; got != "1" {
		t.Errorf("health_status = %q, want 1", got)
	}
	if got := report.sections["health"]; !strings.Contains(got, "Cannot connect") {
		t.Errorf("health section = %q, want the health command's output", got)
	}
	log := report.sections["log"]
	if !strings.Contains(log, "journalctl -u docker -n 20 --no-pager -o cat") {
		t.Errorf("log section = %q, want journalctl's arguments", log)
	}
	if !strings.Contains(log, "invalid daemon.json") {
		t.Errorf("log section = %q, want the journal lines", log)
	}
}

func TestServiceScriptActionFails(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, true)
	f.set(t, "fail-action", "")

	res := f.run(t, serviceScript(f.config("docker", "restart", 5*time.Second, "")))
	report := parseRemoteReport(res.Stdout)

	if got := report.fields["result"]; got != "action-failed" {
		t.Fatalf("result = %q, want action-failed", got)
	}
	if got := report.fields["action_status"]; got != "1" {
		t.Errorf("action_status = %q, want 1", got)
	}
	if got := report.sections["action"]; !strings.Contains(got, "Job for docker.service failed") {
		t.Errorf("action section = %q, want systemctl's message", got)
	}
}

func TestServiceScriptActionHangs(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("timeout"); err != nil {
		t.Skip("timeout(1) is not installed")
	}
	f := newFakeInit(t, true)
	f.set(t, "hang-action", "")
	start := time.Now()

	res := f.run(t, serviceScript(f.config("docker", "restart", time.Second, "")))
	report := parseRemoteReport(res.Stdout)

	if got := report.fields["action_status"]; got != "124" {
		t.Errorf("action_status = %q, want 124 from timeout(1)", got)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("script ran %s although the restart hangs and the timeout is 1 s", elapsed)
	}
}

func TestServiceScriptProbe(t *testing.T) {
	for _, active := range []bool{true, false} {
		f := newFakeInit(t, true)
		want := "no"
		if active {
			f.set(t, "active", "")
			want = "yes"
		}

		res := f.run(t, serviceScript(f.config("docker", "probe", time.Second, "")))

		if got := parseRemoteReport(res.Stdout).fields["active"]; got != want {
			t.Errorf("active = %q, want %q", got, want)
		}
		assertStrings(t, "calls", f.calls(t), []string{"systemctl is-active -q docker"})
	}
}

func TestServiceScriptSysVInit(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, false)
	writeExecutable(t, filepath.Join(f.initDir, "docker"), fakeInitScript)
	logLines := ""
	for i := 1; i <= 30; i++ {
		logLines += "docker log line " + strings.Repeat("x", i%3) + "\n"
	}
	logLines += "last line\n"
	logFile := filepath.Join(f.logDir, "docker.log")
	if err := os.WriteFile(logFile, []byte(logLines), 0o644); err != nil {
		t.Fatal(err)
	}

	res := f.run(t, serviceScript(f.config("docker", "restart", time.Second, "false")))
	report := parseRemoteReport(res.Stdout)

	if got := report.fields["init"]; got != "sysv" {
		t.Errorf("init = %q, want sysv", got)
	}
	if got := report.fields["result"]; got != "timeout" {
		t.Errorf("result = %q, want timeout", got)
	}
	calls := f.calls(t)
	if len(calls) < 2 || calls[0] != "init.d restart" || calls[1] != "init.d status" {
		t.Errorf("calls = %q, want the init script's restart, then status", calls)
	}
	log := strings.Split(report.sections["log"], "\n")
	if len(log) != serviceLogLines || log[len(log)-1] != "last line" {
		t.Errorf("log section = %q, want the last %d lines of docker.log", log, serviceLogLines)
	}
}

func TestServiceScriptServiceCommand(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, false)

	res := f.run(t, serviceScript(f.config("docker", "start", time.Second, "")))

	if got := parseRemoteReport(res.Stdout).fields["result"]; got != "healthy" {
		t.Errorf("result = %q, want healthy", got)
	}
	assertStrings(t, "calls", f.calls(t), []string{"service docker start",
		"service docker status"})
}

func TestServiceScriptQuotesHealthCmd(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, true)
	healthCmd := `test "$(printf '%s' 'a b')" = 'a b' && test "$FAKE" != ""`

	res := f.run(t, serviceScript(f.config("docker", "restart", 2*time.Second, healthCmd)))

	if got := parseRemoteReport(res.Stdout).fields["result"]; got != "healthy" {
		t.Errorf("result = %q, want healthy; stdout: %s", got, res.Stdout)
	}
}
