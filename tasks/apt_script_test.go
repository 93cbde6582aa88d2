package tasks

import (
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

// fakeAptGet records its calls and reads its behaviour from files under $FAKE.
// "lock-count" is how many more calls find the lists lock held, and "lock-forever" keeps
// it held. "update-output" and "update-status" replace the output and exit status of
// update, -s prints "simulate-output", "install-status" makes an upgrade fail with that
// exit status, and a real upgrade copies "status-after" over the dpkg database "status".
const fakeAptGet = `#!/bin/sh
echo "apt-get $*" >>"$FAKE/calls"
echo "$DEBIAN_FRONTEND" >"$FAKE/frontend"
locked=0
if [ -f "$FAKE/lock-forever" ]; then locked=1; fi
if [ -f "$FAKE/lock-count" ]; then
	n=$(cat "$FAKE/lock-count")
	if [ "$n" -gt 0 ]; then locked=1; echo $((n - 1)) >"$FAKE/lock-count"; fi
fi
if [ "$locked" = 1 ]; then
	echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
	echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
	exit 100
fi
case " $* " in
*" update "*)
	if [ -f "$FAKE/update-output" ]; then
		cat "$FAKE/update-output"
	else
		echo "Hit:1 http://deb.debian.org/debian bookworm InRelease"
	fi
	exit "$(cat "$FAKE/update-status" 2>/dev/null || echo 0)" ;;
*" -s "*)
	cat "$FAKE/simulate-output" 2>/dev/null || true ;;
*" install "*)
	if [ -f "$FAKE/install-status" ]; then
		echo "E: Held packages were changed and -y was used without --allow-change-held-packages." >&2
		exit "$(cat "$FAKE/install-status")"
	fi
	if [ -f "$FAKE/status-after" ]; then cp "$FAKE/status-after" "$FAKE/status"; fi
	echo "Setting up docker.io ..." ;;
esac
`

// fakeDpkgQuery prints the lines of $FAKE/status for the packages it is given, like
// dpkg-query -W with the script's format.
const fakeDpkgQuery = `#!/bin/sh
echo "dpkg-query $*" >>"$FAKE/calls"
shift 2
status=0
for p in "$@"; do
	if ! grep -E "^[a-z]+ +$p(:[a-z0-9]+)? " "$FAKE/status" 2>/dev/null; then
		echo "dpkg-query: no packages found matching $p" >&2
		status=1
	fi
done
exit $status
`

// fakeApt is a temporary tree with fake apt-get and dpkg-query, in which apt scripts
// run locally with /bin/sh.
type fakeApt struct {
	dir   string // $FAKE: state files and the calls log
	bin   string
	lists string // stands for /var/lib/apt/lists/partial
}

func newFakeApt(t *testing.T) *fakeApt {
	t.Helper()
	root := t.TempDir()
	f := &fakeApt{
		dir:   filepath.Join(root, "state"),
		bin:   filepath.Join(root, "bin"),
		lists: filepath.Join(root, "lists-partial"),
	}
	for _, dir := range []string{f.dir, f.bin} {
		mustMkdir(t, dir)
	}
	writeExecutable(t, filepath.Join(f.bin, "apt-get"), fakeAptGet)
	writeExecutable(t, filepath.Join(f.bin, "dpkg-query"), fakeDpkgQuery)
	return f
}

// set writes a state file.
func (f *fakeApt) set(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// aptCalls returns the apt-get calls, without the dpkg-query ones.
func (f *fakeApt) aptCalls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, "calls"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "apt-get ") {
			calls = append(calls, line)
		}
	}
	return calls
}

// config returns a script configuration whose cache files live in the fake tree.
func (f *fakeApt) config(update bool, cacheValid time.Duration, packages []string,
	check bool) aptScriptConfig {
	cfg := hostAptScript(update, cacheValid, packages, time.Minute, check)
	cfg.stampFile = filepath.Join(f.dir, "update-success-stamp")
	cfg.listsPartial = f.lists
	cfg.pkgcache = filepath.Join(f.dir, "pkgcache.bin")
	return cfg
}

func (f *fakeApt) run(t *testing.T, cfg aptScriptConfig) (transport.Result, remoteReport) {
	t.Helper()
	res := runLocalScript(t, aptScript(cfg), f.bin, f.dir)
	if res.ExitCode != 0 {
		t.Fatalf("script exited with status %d: %s", res.ExitCode, res.Stderr)
	}
	return res, parseRemoteReport(res.Stdout)
}

// host returns a fake host that runs apt scripts locally in the fake tree.
func (f *fakeApt) host(t *testing.T) *tasktest.Host {
	host := tasktest.NewHost()
	host.Handle("export LC_ALL=C", func(cmd string, _ []byte) transport.Result {
		cmd = replaceScriptVar(t, cmd, "stamp_file", filepath.Join(f.dir, "stamp"))
		cmd = replaceScriptVar(t, cmd, "lists_partial", f.lists)
		cmd = replaceScriptVar(t, cmd, "pkgcache", filepath.Join(f.dir, "pkgcache.bin"))
		return runLocalScript(t, cmd, f.bin, f.dir)
	})
	return host
}

const (
	fakeStatusOld = "ii  docker.io 20.10.24+dfsg1-1\nii  containerd 1.6.20~ds1-1\n" +
		"un  runc <none>\n"
	fakeStatusNew = "ii  docker.io 20.10.24+dfsg1-1+deb12u1\nii  containerd 1.6.20~ds1-1\n" +
		"un  runc <none>\n"
)

// fakeSimulateOutput is what apt-get -s prints for an upgrade of docker.io that pulls
// in a new dependency.
const fakeSimulateOutput = "NOTE: This is only a simulation!\n" +
	"Inst libfoo1 (1.0-1 Debian:12/stable [amd64])\n" +
	"Inst docker.io [20.10.24+dfsg1-1] (20.10.24+dfsg1-1+deb12u1 " +
	"Debian-Security:12/stable-security [amd64])\n" +
	"Conf libfoo1 (1.0-1 Debian:12/stable [amd64])\n" +
	"Conf docker.io (20.10.24+dfsg1-1+deb12u1 Debian-Security:12/stable-security [amd64])\n"

func TestAptScriptSyntax(t *testing.T) {
	script := aptScript(hostAptScript(true, time.Hour, []string{"docker.io"}, time.Minute, false))
	out, err := exec.Command("/bin/sh", "-n", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh -n: %v: %s", err, out)
	}
}

func TestAptScriptUpdate(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)

	_, report := f.run(t, f.config(true, 0, nil, false))

	if got := report.fields["update"]; got != "done" {
		t.Errorf("update = %q, want done", got)
	}
	if got := report.fields["upgrade"]; got != "none" {
		t.Errorf("upgrade = %q, want none", got)
	}
	assertStrings(t, "apt-get calls", f.aptCalls(t),
		[]string{"apt-get update -q -o APT::Update::Error-Mode=any"})
	frontend, _ := os.ReadFile(filepath.Join(f.dir, "frontend"))
	if got := strings.TrimSpace(string(frontend)); got != "noninteractive" {
		t.Errorf("DEBIAN_FRONTEND = %q, want noninteractive", got)
	}
}

func TestAptScriptHiddenFetchFailure(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "update-output", "Hit:1 http://deb.debian.org/debian bookworm InRelease\n"+
		"Err:2 http://example.invalid/debian bookworm InRelease\n"+
		"  Could not resolve 'example.invalid'\n"+
		"W: Failed to fetch http://example.invalid/debian/dists/bookworm/InRelease\n"+
		"W: Some index files failed to download. They have been ignored, or old ones used "+
		"instead.\n")

	_, report := f.run(t, f.config(true, 0, []string{"docker.io"}, false))

	if got := report.fields["update"]; got != "failed" {
		t.Errorf("update = %q, want failed although apt-get exited 0", got)
	}
	if got := report.fields["apt_status"]; got != "0" {
		t.Errorf("apt_status = %q, want 0", got)
	}
	if _, ok := report.fields["upgrade"]; ok {
		t.Errorf("upgrade ran after a failed update")
	}
}

func TestAptScriptCacheValidTime(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	mustMkdir(t, f.lists)

	_, report := f.run(t, f.config(true, time.Hour, nil, false))

	if got := report.fields["update"]; got != "fresh" {
		t.Errorf("update = %q, want fresh", got)
	}
	assertStrings(t, "apt-get calls", f.aptCalls(t), nil)
}

func TestAptScriptStaleCache(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	mustMkdir(t, f.lists)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(f.lists, old, old); err != nil {
		t.Fatal(err)
	}

	_, report := f.run(t, f.config(true, time.Hour, nil, false))

	if got := report.fields["update"]; got != "done" {
		t.Errorf("update = %q, want done for lists 2 h old", got)
	}
	if age, _ := strconv.Atoi(report.fields["cache_age_s"]); age < 7190 || age > 7300 {
		t.Errorf("cache_age_s = %d, want about 7200", age)
	}
}

func TestAptScriptLockWait(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "lock-count", "1")

	_, report := f.run(t, f.config(true, 0, nil, false))

	if got := report.fields["update"]; got != "done" {
		t.Errorf("update = %q, want done after the lock was released", got)
	}
	if calls := f.aptCalls(t); len(calls) != 2 {
		t.Errorf("apt-get calls = %q, want two", calls)
	}
}

func TestAptScriptLockTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "lock-forever", "")
	cfg := f.config(true, 0, nil, false)
	cfg.lockTimeout = time.Second
	start := time.Now()

	_, report := f.run(t, cfg)

	if got := report.fields["update"]; got != "lock-timeout" {
		t.Errorf("update = %q, want lock-timeout", got)
	}
	if !strings.Contains(report.sections["output"], "Could not get lock") {
		t.Errorf("output = %q, want apt-get's lock message", report.sections["output"])
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("script waited %s with a 1 s lock timeout", elapsed)
	}
}

func TestAptScriptUpgrade(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "status", fakeStatusOld)
	f.set(t, "status-after", fakeStatusNew)

	_, report := f.run(t, f.config(false, 0, []string{"docker.io", "runc", "nosuch"}, false))

	if got := report.fields["upgrade"]; got != "done" {
		t.Errorf("upgrade = %q, want done", got)
	}
	want := "apt-get -y -q -o Dpkg::Options::=--force-confdef " +
		"-o Dpkg::Options::=--force-confold install --only-upgrade docker.io"
	assertStrings(t, "apt-get calls", f.aptCalls(t), []string{want})
	want = "ii  docker.io 20.10.24+dfsg1-1\nun  runc <none>"
	if got := report.sections["before"]; got != want {
		t.Errorf("before = %q, want %q", got, want)
	}
	want = "ii  docker.io 20.10.24+dfsg1-1+deb12u1\nun  runc <none>"
	if got := report.sections["after"]; got != want {
		t.Errorf("after = %q, want %q", got, want)
	}
}

func TestAptScriptNothingInstalled(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "status", fakeStatusOld)

	_, report := f.run(t, f.config(false, 0, []string{"runc"}, false))

	if got := report.fields["upgrade"]; got != "none" {
		t.Errorf("upgrade = %q, want none", got)
	}
	assertStrings(t, "apt-get calls", f.aptCalls(t), nil)
}

func TestAptScriptCheckModeSimulates(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "status", fakeStatusOld)
	f.set(t, "status-after", fakeStatusNew)
	f.set(t, "simulate-output", fakeSimulateOutput)

	_, report := f.run(t, f.config(true, 0, []string{"docker.io", "containerd"}, true))

	if got := report.fields["update"]; got != "skipped" {
		t.Errorf("update = %q, want skipped", got)
	}
	if got := report.fields["upgrade"]; got != "simulated" {
		t.Errorf("upgrade = %q, want simulated", got)
	}
	assertStrings(t, "apt-get calls", f.aptCalls(t),
		[]string{"apt-get -s install --only-upgrade docker.io containerd"})
	status, _ := os.ReadFile(filepath.Join(f.dir, "status"))
	if string(status) != fakeStatusOld {
		t.Errorf("check mode changed the package database")
	}
}

func TestAptScriptRealDpkgQueryFormat(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query is not installed")
	}
	script := "packages='dpkg no-such-package-xyz'\n" + aptFunctionsOnly(t) +
		"\nbefore=$(query_packages)\nprintf '%s\\n' \"$before\"\n" +
		"echo ---\ninstalled_names \"$before\"\n"

	out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v: %s", err, out)
	}
	before, names, _ := strings.Cut(string(out), "---\n")
	if v := parseDpkgVersions(before); len(v.packages) != 1 || v.version["dpkg"] == "" {
		t.Errorf("parsed %q as %+v, want the installed dpkg package", before, v)
	}
	if strings.TrimSpace(names) != "dpkg" {
		t.Errorf("installed names = %q, want dpkg", names)
	}
}

// aptFunctionsOnly returns the function definitions of aptScriptBody, without its
// main part, so a test can call them on their own.
func aptFunctionsOnly(t *testing.T) string {
	t.Helper()
	start := strings.Index(aptScriptBody, "query_packages()")
	end := strings.Index(aptScriptBody, "finish()")
	if start < 0 || end < start {
		t.Fatal("aptScriptBody no longer defines query_packages before finish")
	}
	return aptScriptBody[start:end]
}
