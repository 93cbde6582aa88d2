package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/transport/sshtest"
)

// probePlaybook runs one harmless command, in check mode too.
const probePlaybook = `name: probe
tasks:
  - name: Say hello
    command: {cmd: "echo hello", check_mode: true}
`

// cliResult is the outcome of one command line.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs fleetharden with args and stdin, as main does.
func runCLI(t *testing.T, stdin *os.File, args ...string) cliResult {
	t.Helper()

	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, stdin, &stdout, &stderr)
	code := exitCode(err, &stderr)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// cliEnv isolates a test from the machine: a fresh HOME with no keys or ssh
// config, no ssh-agent, and its own state directory.
func cliEnv(t *testing.T) string {
	t.Helper()

	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("FLEETHARDEN_STATE_DIR", filepath.Join(home, "state"))
	t.Setenv("NO_COLOR", "")
	return home
}

// devNull opens /dev/null, a standard input that is not a terminal.
func devNull(t *testing.T) *os.File {
	t.Helper()

	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// testFleet is a set of in-process SSH servers with an inventory, a
// known_hosts file and a playbook that reach them.
type testFleet struct {
	dir        string
	servers    []*sshtest.Server
	keyFile    string
	knownHosts string
	inventory  string
	playbook   string
}

// newTestFleet starts n servers that accept one client key, encrypted with
// passphrase unless it is nil.
func newTestFleet(t *testing.T, n int, passphrase []byte) *testFleet {
	t.Helper()

	f := &testFleet{dir: t.TempDir()}
	keyFile, pub := sshtest.NewClientKey(t, passphrase)
	f.keyFile = keyFile

	var known, hosts strings.Builder
	for i := range n {
		srv := sshtest.Start(t)
		srv.Authorize(pub)
		f.servers = append(f.servers, srv)
		known.WriteString(srv.KnownHostsLine() + "\n")
		fmt.Fprintf(&hosts, "  web%d:\n    address: %s\n    port: %d\n    user: tester\n"+
			"    key: %s\n", i+1, srv.Host(), srv.Port(), keyFile)
	}

	f.knownHosts = f.write(t, "known_hosts", known.String())
	f.inventory = f.write(t, "inventory.yaml", "hosts:\n"+hosts.String())
	f.playbook = f.write(t, "probe.yaml", probePlaybook)
	return f
}

// write creates a file in the fleet's directory and returns its path.
func (f *testFleet) write(t *testing.T, name, content string) string {
	t.Helper()

	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// check runs fleetharden check on the fleet with args added.
func (f *testFleet) check(t *testing.T, stdin *os.File, args ...string) cliResult {
	t.Helper()

	base := []string{"check", "-i", f.inventory, f.playbook, "--known-hosts", f.knownHosts,
		"--ssh-config", "none"}
	return runCLI(t, stdin, append(base, args...)...)
}

// wantCode fails the test unless the command exited with code.
func wantCode(t *testing.T, r cliResult, code int) {
	t.Helper()

	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code,
			r.stdout, r.stderr)
	}
}

// stubTerminal makes every standard input a terminal that answers answer,
// and returns the number of prompts so far.
func stubTerminal(t *testing.T, answer string) func() int {
	t.Helper()

	saved := terminal
	prompts := 0
	terminal.isTerminal = func(int) bool { return true }
	terminal.readPassword = func(int) ([]byte, error) {
		prompts++
		return []byte(answer), nil
	}
	t.Cleanup(func() { terminal = saved })
	return func() int { return prompts }
}
