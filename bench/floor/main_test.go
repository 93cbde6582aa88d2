package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fleetharden/fleetharden/transport/sshtest"
)

// startServers starts n in-process SSH servers that accept one client key, and writes the
// targets and known_hosts files for them. It returns the options to reach them.
func startServers(t *testing.T, n int) *options {
	t.Helper()

	keyFile, pub := sshtest.NewClientKey(t, nil)
	dir := t.TempDir()
	var targets, knownHosts strings.Builder
	for range n {
		server := sshtest.Start(t)
		server.Authorize(pub)
		fmt.Fprintf(&targets, "%s %d\n", server.Host(), server.Port())
		knownHosts.WriteString(server.KnownHostsLine() + "\n")
	}

	opts := &options{
		targets: filepath.Join(dir, "targets"), knownHosts: filepath.Join(dir, "known_hosts"),
		user: "floor", key: keyFile, command: "true", timeout: time.Minute,
	}
	writeFile(t, opts.targets, targets.String())
	writeFile(t, opts.knownHosts, knownHosts.String())
	return opts
}

func writeFile(t *testing.T, file, content string) {
	t.Helper()

	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", file, err)
	}
}

// runFloor runs every target of opts and returns one error per host.
func runFloor(t *testing.T, opts *options) []error {
	t.Helper()

	targets, err := readTargets(opts.targets)
	if err != nil {
		t.Fatalf("read targets: %v", err)
	}
	config, err := clientConfig(opts)
	if err != nil {
		t.Fatalf("client config: %v", err)
	}
	return runAll(context.Background(), targets, config, opts.command)
}

func TestFloorRunsEveryHost(t *testing.T) {
	opts := startServers(t, 3)

	for i, err := range runFloor(t, opts) {
		if err != nil {
			t.Errorf("host %d: %v", i, err)
		}
	}
}

func TestFloorReportsFailedCommand(t *testing.T) {
	opts := startServers(t, 2)
	opts.command = "exit 3"

	for i, err := range runFloor(t, opts) {
		var exitErr *ssh.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 {
			t.Errorf("host %d: got %v, want exit status 3", i, err)
		}
	}
}

func TestFloorRejectsUnknownHostKey(t *testing.T) {
	opts := startServers(t, 1)
	writeFile(t, opts.knownHosts, "")

	err := runFloor(t, opts)[0]
	if err == nil || !strings.Contains(err.Error(), "log in to") {
		t.Errorf("got %v, want a login failure for the unknown host key", err)
	}
}

func TestReadTargetsRejectsBadLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "targets")
	writeFile(t, file, "127.0.0.1 22\n127.0.0.1\n")

	_, err := readTargets(file)
	if err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("got %v, want an error naming line 2", err)
	}
}
