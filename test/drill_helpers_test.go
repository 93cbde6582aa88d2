//go:build lab

package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// drillTimeout bounds one fleetharden process in a drill. A process still running then is
// killed and fails the drill, so a hang cannot stall the suite.
const drillTimeout = 3 * time.Minute

// drillOriginal is the daemon.json that drills give every host before a run. It is written
// with mode 0640, so the original file and one that fleetharden wrote (0644) differ in mode
// as well as in content.
const drillOriginal = "{\n  \"debug\": false\n}\n"

// drillResults is the JSON results document, with the messages and rollback steps that
// e2eResults leaves out.
type drillResults struct {
	RunID   string         `json:"run_id"`
	Summary map[string]int `json:"summary"`
	Hosts   []drillHost    `json:"hosts"`
}

// drillHost is one host of drillResults.
type drillHost struct {
	Name       string         `json:"name"`
	Status     string         `json:"status"`
	Message    string         `json:"message"`
	Rollback   []string       `json:"rollback"`
	Facts      map[string]any `json:"facts"`
	DurationMS int64          `json:"duration_ms"`
	Tasks      []struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"tasks"`
}

// drillRun is a finished fleetharden process.
type drillRun struct {
	exitCode int
	stdout   string
	stderr   string
	elapsed  time.Duration
	json     []byte // the results file as written
	results  drillResults
}

// host returns the results of one host and fails the test when it is missing.
func (r drillRun) host(t *testing.T, name string) drillHost {
	t.Helper()
	for _, h := range r.results.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %s missing from the results", name)
	return drillHost{}
}

// drillProcess is a fleetharden process running in the background.
type drillProcess struct {
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdout, stderr bytes.Buffer
	jsonPath       string
	start          time.Time
}

// startDrill starts fleetharden with args, a results file and its own state directory, and
// kills it at the end of the test if it still runs.
func startDrill(t *testing.T, stateDir string, args ...string) *drillProcess {
	t.Helper()
	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatalf("build fleetharden: %v", err)
	}

	p := &drillProcess{jsonPath: filepath.Join(t.TempDir(), "results.json")}
	ctx, cancel := context.WithTimeout(context.Background(), drillTimeout)
	p.cancel = cancel
	p.cmd = exec.CommandContext(ctx, bin, append(args, "--json", p.jsonPath)...)
	p.cmd.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+stateDir)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr

	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start fleetharden: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		p.cmd.Wait()
	})
	return p
}

// wait waits for the process to end and reads its results.
func (p *drillProcess) wait(t *testing.T) drillRun {
	t.Helper()
	r := p.waitExit(t)
	var err error
	r.json, err = os.ReadFile(p.jsonPath)
	if err != nil {
		t.Fatalf("read results (exit %d): %v", r.exitCode, err)
	}
	if err := json.Unmarshal(r.json, &r.results); err != nil {
		t.Fatalf("parse results: %v\n%s", err, r.json)
	}
	return r
}

// waitExit waits for the process to end, for runs that may write no results.
func (p *drillProcess) waitExit(t *testing.T) drillRun {
	t.Helper()
	err := p.cmd.Wait()
	r := drillRun{elapsed: time.Since(p.start), stdout: p.stdout.String(),
		stderr: p.stderr.String()}
	p.cancel()

	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run fleetharden: %v", err)
	}
	if r.elapsed >= drillTimeout {
		t.Fatalf("fleetharden %v was still running after %v and was killed",
			p.cmd.Args[1:], drillTimeout)
	}
	t.Logf("fleetharden %s: exit %d after %v\n%s%s", strings.Join(p.cmd.Args[1:], " "),
		r.exitCode, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
	return r
}

// startDrill starts fleetharden against the lab with the lab's known_hosts.
func (l *e2eLab) startDrill(t *testing.T, args ...string) *drillProcess {
	t.Helper()
	args = append(args, "--known-hosts", filepath.Join(l.dir, "known_hosts"))
	return startDrill(t, l.state, args...)
}

// drill runs fleetharden against the lab and waits for it.
func (l *e2eLab) drill(t *testing.T, args ...string) drillRun {
	t.Helper()
	return l.startDrill(t, args...).wait(t)
}

// writeDrillPlaybook writes a playbook into the test's temporary directory.
func writeDrillPlaybook(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "playbook.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// drillContainer returns the id of a lab host's container. lab.sh lists the containers in
// the state directory's containers file, one "NAME ID PORT" line per host, and the port
// ties each line to its inventory host.
func (l *e2eLab) drillContainer(t *testing.T, host string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(l.dir, "containers"))
	if err != nil {
		t.Fatalf("read lab containers: %v", err)
	}
	defer f.Close()

	want := strconv.Itoa(l.hosts[host].Port)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 3 && fields[2] == want {
			return fields[1]
		}
	}
	t.Fatalf("no container of %s (port %s) in %s/containers", host, want, l.dir)
	return ""
}

// drillDocker runs a docker command and returns its combined output.
func drillDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := tryDrillDocker(args...)
	if err != nil {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func tryDrillDocker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return string(out), errors.New(strings.TrimSpace(string(out)) + ": " + err.Error())
	}
	return string(out), nil
}

// drillExec runs a shell command as root in a lab host's container, without SSH, so it
// works while the host's sshd or network is down.
func (l *e2eLab) drillExec(t *testing.T, host, script string) string {
	t.Helper()
	return drillDocker(t, "exec", l.drillContainer(t, host), "sh", "-c", script)
}

// seedDrillDaemonJSON gives every host drillOriginal as daemon.json. At the end of the
// test it removes the file, as the hosts had none before, and any temporary file of a
// write that a drill cut off.
func seedDrillDaemonJSON(t *testing.T, lab *e2eLab) {
	t.Helper()
	lab.each(t, "rm -f /etc/docker/.daemon.json.fleetharden-*; printf '%s' '"+drillOriginal+
		"' > /etc/docker/daemon.json && chown root:root /etc/docker/daemon.json && "+
		"chmod 0640 /etc/docker/daemon.json")
	t.Cleanup(func() {
		for _, host := range lab.names {
			lab.trySSH(host, "rm -f /etc/docker/daemon.json /etc/docker/.daemon.json.fleetharden-*")
		}
	})
}

// drillFileState returns a file's mode, owner, group and SHA-256, or "absent".
func drillFileState(t *testing.T, lab *e2eLab, host, path string) string {
	t.Helper()
	q := shellQuote(path)
	out := lab.ssh(t, host, "if [ -e "+q+" ]; then stat -c '%a %U:%G' "+q+
		" | tr '\\n' ' '; sha256sum < "+q+" | cut -d' ' -f1; else echo absent; fi")
	return strings.TrimSpace(out)
}

// drillSHA256 returns the hex SHA-256 of s.
func drillSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// drillTempFiles lists the temporary files ".NAME.fleetharden-HEX" of fleetharden's writes
// under dirs on a host. A finished write never leaves one.
func drillTempFiles(t *testing.T, lab *e2eLab, host string, dirs ...string) string {
	t.Helper()
	quoted := make([]string, len(dirs))
	for i, d := range dirs {
		quoted[i] = shellQuote(d)
	}
	out := lab.ssh(t, host, "find "+strings.Join(quoted, " ")+
		" -name '.*.fleetharden-*' 2>/dev/null; true")
	return strings.TrimSpace(out)
}

// originalState is drillFileState of a daemon.json that holds drillOriginal.
func originalState() string {
	return "640 root:root " + drillSHA256(drillOriginal)
}

// checkDrillDaemonJSON checks that a host's daemon.json is whole: either drillOriginal
// with its mode, or one of written as fleetharden writes it, root-owned with mode 0644.
// It logs the temporary files next to it, which a write that was cut off leaves until the
// next run or rollback on the host.
func checkDrillDaemonJSON(t *testing.T, lab *e2eLab, host string, written ...string) {
	t.Helper()
	got := drillFileState(t, lab, host, "/etc/docker/daemon.json")
	allowed := []string{originalState()}
	for _, w := range written {
		allowed = append(allowed, "644 root:root "+drillSHA256(w))
	}
	if !slices.Contains(allowed, got) {
		t.Errorf("%s: daemon.json is %q, want one of %q", host, got, allowed)
	}
	if temps := drillTempFiles(t, lab, host, "/etc/docker"); temps != "" {
		t.Logf("%s: temporary files in /etc/docker before the rollback:\n%s", host, temps)
	}
}

// drillWait polls cond every 100 ms until it returns true, and fails the test after limit.
func drillWait(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
