//go:build lab

// Package test holds fleetharden's end-to-end tests. The tests behind the
// build tag "lab" run against the hosts that test/lab/lab.sh starts, and find
// the lab's state directory in the environment variable FLEETHARDEN_LAB.
package test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// labCommandTimeout bounds one SSH command against a lab host.
const labCommandTimeout = time.Minute

// labInventory is the part of the lab's inventory.yaml that these tests read.
type labInventory struct {
	Groups map[string]struct {
		Hosts map[string]labHost `yaml:"hosts"`
	} `yaml:"groups"`
}

// labHost is one host entry of the lab's inventory.yaml.
type labHost struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	User    string `yaml:"user"`
	Key     string `yaml:"key"`
	Become  bool   `yaml:"become"`
}

// labStateDir returns the lab's state directory, and skips the test when
// FLEETHARDEN_LAB is unset.
func labStateDir(t *testing.T) string {
	t.Helper()

	dir := os.Getenv("FLEETHARDEN_LAB")
	if dir == "" {
		t.Skip("FLEETHARDEN_LAB is unset: run test/lab/lab.sh up, " +
			"then set FLEETHARDEN_LAB to the absolute path of test/lab/.state")
	}
	return dir
}

// readLabHosts parses the lab's inventory.yaml and returns its hosts by name.
// It fails the test on a host whose address is not a loopback address,
// because lab tests send traffic to the lab's own hosts only.
func readLabHosts(t *testing.T, dir string) map[string]labHost {
	t.Helper()

	path := filepath.Join(dir, "inventory.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read lab inventory: %v", err)
	}
	var inventory labInventory
	if err := yaml.Unmarshal(data, &inventory); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}

	hosts := make(map[string]labHost)
	for _, group := range inventory.Groups {
		for name, host := range group.Hosts {
			ip := net.ParseIP(host.Address)
			if ip == nil || !ip.IsLoopback() {
				t.Fatalf("%s: host %s has address %q, want a loopback address",
					path, name, host.Address)
			}
			hosts[name] = host
		}
	}
	if len(hosts) == 0 {
		t.Fatalf("%s lists no hosts", path)
	}
	return hosts
}

// runOnLabHost runs a shell command on a lab host over ssh as user, with the
// lab's key and known_hosts and strict host key checking, and returns its
// trimmed stdout. The error carries the exit status and stderr.
func runOnLabHost(dir string, host labHost, user, stdin, command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), labCommandTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, "ssh",
		"-i", host.Key,
		"-o", "UserKnownHostsFile="+filepath.Join(dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes",
		"-p", strconv.Itoa(host.Port),
		user+"@"+host.Address,
		command)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr

	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ssh %s@%s:%d %q: %w: %s",
			user, host.Address, host.Port, command, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

var dockerVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+`)

func TestLabSmoke(t *testing.T) {
	dir := labStateDir(t)

	for name, host := range readLabHosts(t, dir) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			version, err := runOnLabHost(dir, host, host.User, "",
				"sudo -n docker info --format {{.ServerVersion}}")
			if err != nil {
				t.Fatalf("docker info: %v", err)
			}
			if !dockerVersionPattern.MatchString(version) {
				t.Errorf("docker info printed server version %q, want x.y.z", version)
			}

			state, err := runOnLabHost(dir, host, host.User, "", "systemctl is-active docker")
			if err != nil {
				t.Fatalf("systemctl is-active docker: %v", err)
			}
			if state != "active" {
				t.Errorf("docker.service is %q, want active", state)
			}
		})
	}
}

// TestLabSmokeBecomePassword checks the user fleetpw, whose sudo requires the
// password stored in the state directory's become-pass file.
func TestLabSmokeBecomePassword(t *testing.T) {
	dir := labStateDir(t)
	password, err := os.ReadFile(filepath.Join(dir, "become-pass"))
	if err != nil {
		t.Fatalf("read become password: %v", err)
	}

	for name, host := range readLabHosts(t, dir) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			_, err := runOnLabHost(dir, host, "fleetpw", "", "sudo -n true")
			if err == nil {
				t.Errorf("sudo -n as fleetpw succeeded, want it rejected for lack of a password")
			}

			uid, err := runOnLabHost(dir, host, "fleetpw", string(password)+"\n",
				"sudo -S -p '' id -u")
			if err != nil {
				t.Fatalf("sudo -S with the become password: %v", err)
			}
			if uid != "0" {
				t.Errorf("sudo -S id -u printed %q, want 0", uid)
			}
		})
	}
}
