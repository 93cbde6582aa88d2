package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fleetharden/fleetharden/playbooks"
)

// cli runs the command line in-process and returns its exit status and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("FLEETHARDEN_STATE_DIR", t.TempDir())
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return code, stdout.String(), stderr.String()
}

// countingListener accepts TCP connections on loopback and counts them, so a test can
// show that no host was contacted.
func countingListener(t *testing.T) (port int, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadPlaybookTouchesNoHost(t *testing.T) {
	port, accepted := countingListener(t)
	inv := writeFile(t, "inv.yaml", fmt.Sprintf(
		"hosts:\n  h1: {address: 127.0.0.1, port: %d, user: fleet}\n", port))
	pb := writeFile(t, "pb.yaml", "name: bad\ntasks:\n  - name: a\n    group: {nmae: docker}\n")

	code, _, stderr := cli(t, "run", "-i", inv, pb, "--known-hosts", filepath.Join(t.TempDir(), "kh"))
	if code != exitBadInput {
		t.Errorf("exit status = %d, want %d", code, exitBadInput)
	}
	if !strings.Contains(stderr, `pb.yaml:4:13: unknown argument "nmae" for group (did you mean "name"?)`) {
		t.Errorf("stderr does not name the file, line, column and value:\n%s", stderr)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the host, want none", n)
	}
}

func TestUnknownVariableTouchesNoHost(t *testing.T) {
	port, accepted := countingListener(t)
	inv := writeFile(t, "inv.yaml", fmt.Sprintf(
		"hosts:\n  h1: {address: 127.0.0.1, port: %d, user: fleet}\n", port))
	pb := writeFile(t, "pb.yaml", "name: vars\ntasks:\n  - name: a\n"+
		"    group_members: {group: docker, users: \"{{ operators }}\"}\n")

	code, _, stderr := cli(t, "run", "-i", inv, pb)
	if code != exitBadInput {
		t.Errorf("exit status = %d, want %d", code, exitBadInput)
	}
	if !strings.Contains(stderr, "variable operators is not defined for host h1") {
		t.Errorf("stderr does not name the variable and host:\n%s", stderr)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the host, want none", n)
	}
}

func TestBadInventoryExitsTwo(t *testing.T) {
	inv := writeFile(t, "inv.yaml", "hosts:\n  h1: {port: seventy}\n")
	code, _, stderr := cli(t, "run", "-i", inv)
	if code != exitBadInput {
		t.Errorf("exit status = %d, want %d", code, exitBadInput)
	}
	if !strings.Contains(stderr, "inv.yaml:2") {
		t.Errorf("stderr does not name the inventory line:\n%s", stderr)
	}
}

func TestUnreachableHostExitsFour(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	inv := writeFile(t, "inv.yaml", fmt.Sprintf(
		"hosts:\n  gone: {address: 127.0.0.1, port: %d, user: fleet}\n", port))
	results := filepath.Join(t.TempDir(), "results.json")

	code, stdout, _ := cli(t, "run", "-i", inv, "--json", results, "--known-hosts",
		filepath.Join(t.TempDir(), "kh"))
	if code != exitUnreachable {
		t.Errorf("exit status = %d, want %d", code, exitUnreachable)
	}
	if !strings.Contains(stdout, "gone  unreachable") {
		t.Errorf("recap does not show the host unreachable:\n%s", stdout)
	}
	data, err := os.ReadFile(results)
	if err != nil {
		t.Fatalf("results not written: %v", err)
	}
	if !strings.Contains(string(data), `"status": "unreachable"`) {
		t.Errorf("results do not record the host unreachable:\n%s", data)
	}
}

func TestPlaybookShowPrintsBuiltin(t *testing.T) {
	code, stdout, _ := cli(t, "playbook", "show")
	if code != 0 {
		t.Fatalf("exit status = %d", code)
	}
	if stdout != string(playbooks.DockerHardening) {
		t.Errorf("playbook show differs from the embedded playbook")
	}
	disk, err := os.ReadFile("../../playbooks/docker-hardening.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(disk) {
		t.Errorf("playbook show differs from playbooks/docker-hardening.yaml")
	}
}

func TestBuiltinPlaybookValidates(t *testing.T) {
	code, stdout, stderr := cli(t, "playbook", "validate")
	if code != 0 {
		t.Errorf("exit status = %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "valid") {
		t.Errorf("output = %q, want it to say valid", stdout)
	}
}

func TestValidateWarnsLikeInventory(t *testing.T) {
	inv := writeFile(t, "inv.yaml", "groups:\n  web:\n    hosts:\n      web: {address: 10.0.0.1}\n")

	_, _, listed := cli(t, "inventory", "-i", inv)
	code, _, validated := cli(t, "playbook", "validate", "-i", inv)

	if code != 0 {
		t.Fatalf("exit status = %d: %s", code, validated)
	}
	want := "warning: " + inv + ":4:7: host web has the name of a group"
	if !strings.Contains(listed, want) {
		t.Errorf("inventory printed %q, want %q", listed, want)
	}
	if !strings.Contains(validated, want) {
		t.Errorf("playbook validate printed %q, want %q", validated, want)
	}
}

func TestEnvironmentTwinSetsFlag(t *testing.T) {
	inv := writeFile(t, "inv.yaml", "hosts:\n  h1: {}\n  h2: {}\n")
	t.Setenv("FLEETHARDEN_LIMIT", "h2")
	code, stdout, stderr := cli(t, "inventory", "-i", inv)
	if code != 0 {
		t.Fatalf("exit status = %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "h1\n") || !strings.Contains(stdout, "h2\n") {
		t.Errorf("FLEETHARDEN_LIMIT=h2 did not limit the hosts:\n%s", stdout)
	}
}

func TestUnknownFlagIsBadInput(t *testing.T) {
	code, _, stderr := cli(t, "run", "--frks", "3")
	if code != exitBadInput {
		t.Errorf("exit status = %d, want %d", code, exitBadInput)
	}
	if !strings.Contains(stderr, "unknown flag: --frks") {
		t.Errorf("stderr = %q, want the unknown flag named", stderr)
	}
}

func TestVersionPrints(t *testing.T) {
	code, stdout, _ := cli(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "fleetharden ") {
		t.Errorf("version: exit %d, output %q", code, stdout)
	}
}

func TestUsageMistakesExitTwo(t *testing.T) {
	for _, args := range [][]string{{"run"}, {"bogus"}, {"rollback", "-i", "x.yaml"}} {
		code, _, stderr := cli(t, args...)
		if code != exitBadInput {
			t.Errorf("%v: exit status = %d, want %d", args, code, exitBadInput)
		}
		if !strings.Contains(stderr, "--help") {
			t.Errorf("%v: stderr %q does not point to --help", args, stderr)
		}
	}
}

func TestBadFlagsAndKeysTouchNoHost(t *testing.T) {
	port, accepted := countingListener(t)
	missingKey := filepath.Join(t.TempDir(), "id_missing")
	notAKey := writeFile(t, "id_text", "hello\n")
	inv := func(key string) string {
		return writeFile(t, "inv.yaml", fmt.Sprintf("hosts:\n  h1: {address: 127.0.0.1, "+
			"port: %d, user: fleet, key: %s}\n", port, key))
	}
	good := inv(notAKey)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "-i", inv(missingKey)}, "key " + missingKey},
		{[]string{"run", "-i", good}, "not a private key"},
		{[]string{"run", "-i", good, "--json", "/nonexistent/dir/r.json"}, "create the directory first"},
		{[]string{"run", "-i", good, "--json", t.TempDir()}, "it is a directory: name a file"},
		{[]string{"run", "-i", good, "--task-timeout", "0s"}, "invalid --task-timeout"},
		{[]string{"run", "-i", good, "--connect-timeout", "-1s"}, "invalid --connect-timeout"},
		{[]string{"rollback", "-i", good, "--run", "../../etc"}, `invalid --run "../../etc"`},
	}
	for _, tc := range cases {
		code, _, stderr := cli(t, tc.args...)
		if code != exitBadInput {
			t.Errorf("%v: exit status = %d, want %d", tc.args, code, exitBadInput)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: stderr = %q, want it to contain %q", tc.args, stderr, tc.want)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the host, want none", n)
	}
}

func TestRollbackHintKeepsConnectionFlags(t *testing.T) {
	f := &runFlags{inventory: "inv.yaml"}
	f.conn = connFlags{knownHosts: "kh", sshConfig: "none", noAgent: true, askBecomePass: true}

	got := rollbackHint(f, "RUN")

	want := "fleetharden rollback -i inv.yaml --run RUN --known-hosts kh --ask-become-pass " +
		"-F none --no-agent"
	if got != want {
		t.Errorf("rollbackHint = %q, want %q", got, want)
	}
}
