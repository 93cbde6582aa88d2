//go:build lab

package test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// hostileCase is a playbook, and inventory variables, that fleetharden must reject before
// it contacts any host.
type hostileCase struct {
	name     string
	playbook string
	vars     string // YAML flow mapping of the host's variables
	want     string // part of the error message
}

// hostileTask wraps one task's YAML, indented by four spaces, into a playbook.
func hostileTask(task string) string {
	return "name: hostile\ntasks:\n  - name: t\n" + task
}

var hostileCases = []hostileCase{
	{"group name with a command", hostileTask(
		"    group: {name: \"docker; touch /tmp/fh-injected\"}\n"), "", "invalid group name"},
	{"group name with a newline", hostileTask(
		"    group: {name: \"docker\\ntouch /tmp/fh-injected\"}\n"), "", "invalid group name"},
	{"group name dot dot", hostileTask("    group: {name: \"..\"}\n"), "", "invalid group name"},
	{"user with a substitution", hostileTask(
		"    group_members: {group: docker, users: [\"$(touch /tmp/fh-injected)\"]}\n"),
		"", "invalid user name"},
	{"user with a space", hostileTask(
		"    group_members: {group: docker, users: [\"alice bob\"]}\n"), "", "invalid user name"},
	{"users from a variable", hostileTask(
		"    group_members: {group: docker, users: \"{{ drill_users }}\"}\n"),
		"{drill_users: [alice, \"bob`touch /tmp/fh-injected`\"]}", "invalid user name"},
	{"service name with a command", hostileTask(
		"    service: {name: \"docker; touch /tmp/fh-injected\"}\n"), "", "invalid service name"},
	{"service name as an option", hostileTask("    service: {name: \"--help\"}\n"), "",
		"invalid service name"},
	{"service name from a variable", hostileTask("    service: {name: \"{{ unit }}\"}\n"),
		"{unit: \"docker\\nreboot\"}", "invalid service name"},
	{"apt package with a command", hostileTask(
		"    apt: {upgrade: [\"docker.io;touch /tmp/fh-injected\"]}\n"), "",
		"invalid package name"},
	{"apt package as an option", hostileTask(
		"    apt: {upgrade: [\"-oAPT::Update::Pre-Invoke::=touch\"]}\n"), "",
		"invalid package name"},
	{"daemon unit with a substitution", hostileTask(
		"    docker_daemon_config: {service: \"$(touch /tmp/fh-injected)\", " +
			"settings: {debug: true}}\n"), "", "invalid systemd unit name"},
	{"daemon path relative", hostileTask(
		"    docker_daemon_config: {path: \"../../etc/shadow\", settings: {debug: true}}\n"),
		"", "use an absolute path"},
	{"daemon path with dot dot", hostileTask(
		"    docker_daemon_config: {path: \"/etc/docker/../shadow\", settings: {debug: true}}\n"),
		"", "without . or .. elements"},
	{"daemon path dot dot from a variable", hostileTask(
		"    docker_daemon_config: {path: \"/etc/docker/{{ f }}\", settings: {debug: true}}\n"),
		"{f: ../shadow}", "without . or .. elements"},
	{"command with a NUL byte", hostileTask("    command: {cmd: \"echo \\0\"}\n"), "",
		"NUL byte"},
	{"list variable inside a string", hostileTask("    group: {name: \"x{{ l }}\"}\n"),
		"{l: [a, b]}", "cannot be part of a string"},
	{"unquoted template", hostileTask("    group: {name: {{ marker }}}\n"), "",
		"a template must be quoted"},
	{"condition with a substitution", "name: hostile\ntasks:\n  - name: t\n" +
		"    when: \"$(touch /tmp/fh-injected)\"\n    command: {cmd: \"true\"}\n", "",
		"expected a boolean"},
}

// TestHostileInputRejectedBeforeContact runs each hostile playbook against an inventory
// whose only host is a listener of this test, and checks that fleetharden rejects the
// input with exit status 2 and never connects. It needs no lab.
func TestHostileInputRejectedBeforeContact(t *testing.T) {
	port, connections := countingListener(t)
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			vars := c.vars
			if vars == "" {
				vars = "{}"
			}
			inv := writeDrillFile(t, "inventory.yaml", fmt.Sprintf(
				"groups:\n  g:\n    hosts:\n      h1: {address: 127.0.0.1, port: %d, "+
					"vars: %s}\n", port, vars))
			pb := writeDrillPlaybook(t, c.playbook)

			r := startDrill(t, t.TempDir(), "run", "-i", inv, pb,
				"--known-hosts", writeDrillFile(t, "known_hosts", "")).waitExit(t)

			if r.exitCode != 2 {
				t.Errorf("exit status = %d, want 2 (bad input)", r.exitCode)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, c.want)
			}
		})
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("fleetharden connected %d times, want never for rejected input", n)
	}
}

// countingListener listens on a 127.0.0.1 port until the end of the test and counts the
// connections it accepts.
func countingListener(t *testing.T) (int, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, &n
}

// writeDrillFile writes a file with mode 0600 into the test's temporary directory.
func writeDrillFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// injectionPlaybook puts shell metacharacters into values that reach a host. No shell may
// see the file paths and daemon settings, and the variables inserted into commands must
// arrive as one word each. %[1]s is a marker file that any of them would create if a
// shell ran it, and %[2]s a directory for the files the playbook writes.
const injectionPlaybook = `name: injection
tasks:
  - name: Write daemon.json under a hostile path
    docker_daemon_config:
      path: "%[2]s/a b;touch %[1]s;$(touch %[1]s)` + "`touch %[1]s`" + `'x/daemon.json"
      service: docker
      settings:
        labels: ["a=$(touch %[1]s)", "b=';touch %[1]s;'", "c=` + "`touch %[1]s`" + `"]
  - name: Read a file under a hostile path
    assert:
      file: "%[2]s/$(touch %[1]s);touch %[1]s.json"
      that: [{path: $.x, exists: false}]
  - name: Insert a hostile variable into a command
    command:
      cmd: "printf '%%s\\n' {{ drill_word }} > %[2]s/word"
  - name: Insert a variable with quotes into a command
    command:
      cmd: "printf '%%s\\n' {{ drill_quotes }} > %[2]s/quotes"
`

func TestDrillShellInjection(t *testing.T) {
	lab := openE2ELab(t)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	marker := "/tmp/fh-drill-injected-" + hex.EncodeToString(suffix)
	dir := "/tmp/fh-drill-injection-" + hex.EncodeToString(suffix)
	word := "x;touch " + marker + ";$(touch " + marker + ")`touch " + marker + "`"
	quotes := `it's "quoted" \ 'twice'`
	t.Cleanup(func() { lab.each(t, "rm -rf "+shellQuote(dir)+" "+shellQuote(marker)) })

	inv := lab.inventoryWith(t, lab.names[0], map[string]any{"drill_word": word,
		"drill_quotes": quotes})
	pb := writeDrillPlaybook(t, fmt.Sprintf(injectionPlaybook, marker, dir))
	r := lab.drill(t, "run", "-i", inv, pb, "--limit", lab.names[0])

	if r.exitCode != 0 {
		t.Errorf("exit status = %d, want 0", r.exitCode)
	}
	host := lab.names[0]
	if out, err := lab.trySSH(host, "ls -d "+shellQuote(marker)); err == nil {
		t.Errorf("%s: marker %s exists (%s): a shell ran part of a value", host, marker, out)
	}
	daemonJSON := dir + "/a b;touch " + marker + ";$(touch " + marker + ")`touch " + marker +
		"`'x/daemon.json"
	if got := lab.ssh(t, host, "grep -c touch "+shellQuote(daemonJSON)); got != "3\n" {
		t.Errorf("%s: daemon.json at the literal path holds %q lines with the labels, want 3",
			host, got)
	}
	for file, value := range map[string]string{"word": word, "quotes": quotes} {
		if got := lab.ssh(t, host, "cat "+shellQuote(dir+"/"+file)); got != value+"\n" {
			t.Errorf("%s: the command printed %q, want the variable as one word %q", host,
				got, value+"\n")
		}
	}
}

func TestDrillInvalidDaemonJSONKept(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	broken := map[string]struct{ content, cause string }{
		lab.names[0]: {"{ \"debug\": tru", "parse /etc/docker/daemon.json: invalid JSON"},
		lab.names[1]: {"{\"debug\": false, \"fleetharden-drill-key\": 1}\n",
			"unknown daemon.json key \"fleetharden-drill-key\""},
	}
	before := map[string]string{}
	for host, b := range broken {
		lab.ssh(t, host, "printf '%s' "+shellQuote(b.content)+" > /etc/docker/daemon.json")
		before[host] = drillFileState(t, lab, host, "/etc/docker/daemon.json")
	}

	r := lab.drill(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		writeDrillPlaybook(t, drillHardenPlaybook))

	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3 (hosts failed)", r.exitCode)
	}
	for host, b := range broken {
		checkBrokenHostResult(t, r, host, "failed", b.cause, "left unchanged")
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != before[host] {
			t.Errorf("%s: daemon.json is %q, want it unchanged: %q", host, got, before[host])
		}
	}
	if h := r.host(t, lab.names[2]); h.Status != "changed" {
		t.Errorf("%s: status = %s (%s), want changed", lab.names[2], h.Status, h.Message)
	}
}

// hugeOutputPlaybook prints 50 MB of random bytes on stdout and stderr of one command,
// recording stdout as a fact, then fails a command with 50 MB of random bytes on stderr.
const hugeOutputPlaybook = `name: huge output
tasks:
  - name: Print random bytes
    command:
      cmd: "head -c 50000000 /dev/urandom; head -c 50000000 /dev/urandom >&2"
      fact: noise
  - name: Fail with random bytes
    command: {cmd: "head -c 50000000 /dev/urandom >&2; exit 3"}
`

func TestDrillHugeBinaryOutput(t *testing.T) {
	lab := openE2ELab(t)
	p := lab.startDrill(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		writeDrillPlaybook(t, hugeOutputPlaybook))
	peak := watchPeakMemory(p)
	r := p.wait(t)
	peakKB := <-peak

	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3 (the second task fails)", r.exitCode)
	}
	// The hosts print 300 MB in all. The transport keeps 4 MiB of each stream, and
	// cleaning that of invalid UTF-8 takes a few copies of it per host.
	t.Logf("peak resident memory of fleetharden: %d KiB", peakKB)
	if peakKB == 0 || peakKB > 250*1024 {
		t.Errorf("peak resident memory = %d KiB, want it measured and under 250 MiB", peakKB)
	}
	if !utf8.Valid(r.json) || len(r.json) > 1<<20 {
		t.Errorf("results are %d bytes, valid UTF-8 %v: want valid and under 1 MiB",
			len(r.json), utf8.Valid(r.json))
	}
	if bytes.ContainsRune([]byte(r.stdout), 0x1b) || !utf8.ValidString(r.stdout) {
		t.Errorf("the progress output holds escape bytes or invalid UTF-8")
	}
	for _, host := range lab.names {
		h := r.host(t, host)
		if h.Status != "failed" || len(h.Tasks) != 2 || h.Tasks[0].Status != "ok" {
			t.Errorf("%s: status %s with tasks %+v, want the first ok and the second failed",
				host, h.Status, h.Tasks)
		}
		if noise, _ := h.Facts["noise"].(string); len(noise) == 0 || len(noise) > 65536 {
			t.Errorf("%s: fact noise has %d bytes, want 1 to 65536", host, len(noise))
		}
	}
}

// watchPeakMemory polls VmHWM, the peak resident set size, of a running fleetharden every
// 50 ms and sends its last value in KiB once the process is gone.
func watchPeakMemory(p *drillProcess) <-chan int {
	peak := make(chan int, 1)
	status := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	go func() {
		last := 0
		for {
			data, err := os.ReadFile(status)
			if err != nil || bytes.Contains(data, []byte("State:\tZ")) {
				peak <- last
				return
			}
			for line := range strings.Lines(string(data)) {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					fmt.Sscan(rest, &last)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return peak
}
