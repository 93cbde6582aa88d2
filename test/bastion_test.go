//go:build lab

package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bastionImage is the lab's host image, which lab.sh image builds.
const bastionImage = "fleetharden-lab-host:bookworm"

// bastionRunFlags boot systemd with its own Docker daemon in a container,
// as run_flags in test/lab/lab.sh do for the lab hosts.
var bastionRunFlags = []string{
	"--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "MKNOD",
	"--cap-add", "SYS_PTRACE", "--cap-add", "NET_RAW", "--cap-add", "SYS_MODULE",
	"--cap-add", "IPC_LOCK", "--cap-add", "DAC_READ_SEARCH", "--cap-add", "AUDIT_CONTROL",
	"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
	"--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
	"--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
	"-v", "/var/lib/docker", "-e", "container=docker",
}

// bastionLab is a jump host and two targets started from the lab's host image for
// one test. Only the jump host's sshd is published, on a 127.0.0.1 port. The targets
// publish no port, so they are reached through the private Docker network that they
// share with the jump host.
type bastionLab struct {
	prefix     string   // container and network name prefix
	network    string   // the private network
	jump       string   // container name of the jump host
	targets    []string // container names, which are also their host names on the network
	port       int      // the jump host's sshd on 127.0.0.1
	dir        string   // client key, known_hosts, inventories and results
	key        string
	knownHosts string
}

func startBastionLab(t *testing.T) *bastionLab {
	t.Helper()
	if os.Getenv("FLEETHARDEN_LAB") == "" {
		t.Skip("FLEETHARDEN_LAB is not set: start a lab with test/lab/lab.sh up")
	}
	if _, err := docker("image", "inspect", bastionImage); err != nil {
		t.Skipf("image %s not found; run test/lab/lab.sh image: %v", bastionImage, err)
	}

	prefix := fmt.Sprintf("fleetharden-bastion-%d", os.Getpid())
	b := &bastionLab{prefix: prefix, network: prefix + "-net", jump: prefix + "-jump",
		targets: []string{prefix + "-t1", prefix + "-t2"}, dir: t.TempDir()}
	b.key = filepath.Join(b.dir, "id_ed25519")
	b.knownHosts = filepath.Join(b.dir, "known_hosts")
	t.Cleanup(func() { b.remove(t) })

	mustDocker(t, "network", "create", "--label", "org.fleetharden.lab=bastion-test", b.network)
	for _, name := range b.targets {
		b.startContainer(t, name)
	}
	b.startContainer(t, b.jump, "-p", "127.0.0.1::22")
	b.port = publishedPort(t, b.jump)

	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
		"fleetharden-bastion-test", "-f", b.key).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	for _, name := range append([]string{b.jump}, b.targets...) {
		b.waitReady(t, name)
		b.authorize(t, name)
	}
	return b
}

// startContainer starts one lab host on the private network.
func (b *bastionLab) startContainer(t *testing.T, name string, extra ...string) {
	t.Helper()
	args := []string{"run", "-d", "--name", name, "--hostname", name, "--network", b.network,
		"--label", "org.fleetharden.lab=bastion-test"}
	args = append(append(append(args, bastionRunFlags...), extra...), bastionImage)
	mustDocker(t, args...)
}

// remove removes the containers and the network this test started.
func (b *bastionLab) remove(t *testing.T) {
	for _, name := range append([]string{b.jump}, b.targets...) {
		if out, err := docker("rm", "-f", "-v", name); err != nil &&
			!strings.Contains(out, "No such container") {
			t.Errorf("remove container %s: %v: %s", name, err, out)
		}
	}
	if out, err := docker("network", "rm", b.network); err != nil &&
		!strings.Contains(out, "not found") {
		t.Errorf("remove network %s: %v: %s", b.network, err, out)
	}
}

// waitReady waits until the host's sshd and Docker daemon run.
func (b *bastionLab) waitReady(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, sshErr := docker("exec", name, "systemctl", "is-active", "--quiet", "ssh")
		_, dockerErr := docker("exec", name, "timeout", "10", "docker", "info")
		if sshErr == nil && dockerErr == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: sshd or Docker not up after 3 minutes: %v, %v", name, sshErr,
				dockerErr)
		}
		time.Sleep(time.Second)
	}
}

// authorize installs the test's public key for the user fleet.
func (b *bastionLab) authorize(t *testing.T, name string) {
	t.Helper()
	pub, err := os.ReadFile(b.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	mustDocker(t, "exec", name, "sh", "-euc", `install -d -m 0700 -o fleet -g fleet \
		/home/fleet/.ssh
		printf '%s\n' "$1" > /home/fleet/.ssh/authorized_keys
		chown fleet:fleet /home/fleet/.ssh/authorized_keys
		chmod 0600 /home/fleet/.ssh/authorized_keys`, "sh", strings.TrimSpace(string(pub)))
}

// logins returns how many public key logins the jump host's sshd accepted so far.
func (b *bastionLab) logins(t *testing.T) int {
	t.Helper()
	out := mustDocker(t, "exec", b.jump, "journalctl", "-u", "ssh", "--no-pager", "-o", "cat")
	return strings.Count(out, "Accepted publickey for fleet")
}

// reset undoes the hardening on both targets.
func (b *bastionLab) reset(t *testing.T) {
	t.Helper()
	for _, name := range b.targets {
		mustDocker(t, "exec", name, "sh", "-c", "rm -f /etc/docker/daemon.json; "+
			"gpasswd -d alice docker >/dev/null 2>&1; systemctl reset-failed docker; "+
			"systemctl restart docker && docker info >/dev/null")
	}
}

// checkHardened checks the two settings of the built-in playbook that are easiest to
// see from outside: no-new-privileges in daemon.json and alice in the docker group.
func (b *bastionLab) checkHardened(t *testing.T) {
	t.Helper()
	for _, name := range b.targets {
		var cfg map[string]any
		data := mustDocker(t, "exec", name, "cat", "/etc/docker/daemon.json")
		if err := json.Unmarshal([]byte(data), &cfg); err != nil {
			t.Errorf("%s: daemon.json: %v", name, err)
		}
		if cfg["no-new-privileges"] != true {
			t.Errorf("%s: daemon.json = %s, want no-new-privileges true", name, data)
		}
		if groups := mustDocker(t, "exec", name, "id", "-nG", "alice"); !strings.Contains(
			groups, "docker") {
			t.Errorf("%s: alice is in %q, want docker among them", name, groups)
		}
	}
}

// write creates a file in the test's directory and returns its path.
func (b *bastionLab) write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(b.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// bastionResults is the part of the JSON results that these tests read.
type bastionResults struct {
	Summary map[string]int `json:"summary"`
	Hosts   []struct {
		Name    string `json:"name"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"hosts"`
}

// fleetharden runs the binary with args and returns its exit status and the
// parsed results of --json.
func (b *bastionLab) fleetharden(t *testing.T, args ...string) (int, bastionResults) {
	t.Helper()
	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatalf("build fleetharden: %v", err)
	}
	results := filepath.Join(t.TempDir(), "results.json")
	args = append(args, "--known-hosts", b.knownHosts, "--json", results)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+filepath.Join(b.dir, "state"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("fleetharden %s:\n%s", strings.Join(args, " "), out.String())

	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run fleetharden: %v", err)
	}
	var res bastionResults
	data, err := os.ReadFile(results)
	if err != nil {
		t.Fatalf("read results: %v", err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("parse results: %v", err)
	}
	return code, res
}

func TestHardenThroughBastion(t *testing.T) {
	b := startBastionLab(t)
	inv := b.write(t, "inventory.yaml", fmt.Sprintf(`vars:
  docker_users: [alice]
  proxy_jump: fleet@127.0.0.1:%d
hosts:
  t1: {address: %s, user: fleet, key: %s, become: true}
  t2: {address: %s, user: fleet, key: %s, become: true}
`, b.port, b.targets[0], b.key, b.targets[1], b.key))

	t.Run("unknown jump host key", func(t *testing.T) {
		code, res := b.fleetharden(t, "check", "-i", inv)

		if code != 4 {
			t.Errorf("exit status %d, want 4 (unreachable)", code)
		}
		for _, h := range res.Hosts {
			if h.Status != "unreachable" || !strings.Contains(h.Message, "jump host") ||
				!strings.Contains(h.Message, "host key unknown") {
				t.Errorf("%s: %s: %s, want unreachable for the jump host's unknown key",
					h.Name, h.Status, h.Message)
			}
		}
	})

	t.Run("inventory proxy_jump", func(t *testing.T) {
		before := b.logins(t)
		code, res := b.fleetharden(t, "run", "-i", inv, "--accept-new-host-keys",
			"--log-level", "info")

		if code != 0 {
			t.Fatalf("exit status %d, want 0", code)
		}
		for _, h := range res.Hosts {
			if h.Status != "changed" {
				t.Errorf("%s: status %s, want changed", h.Name, h.Status)
			}
		}
		b.checkHardened(t)
		if n := b.logins(t) - before; n != 1 {
			t.Errorf("the jump host saw %d logins for 2 targets, want 1 shared", n)
		}
		known, _ := os.ReadFile(b.knownHosts)
		for _, want := range []string{"[127.0.0.1]:" + strconv.Itoa(b.port), b.targets[0],
			b.targets[1]} {
			if !strings.Contains(string(known), want) {
				t.Errorf("known_hosts lacks %s:\n%s", want, known)
			}
		}
	})

	t.Run("ssh config ProxyJump", func(t *testing.T) {
		config := b.write(t, "ssh_config", fmt.Sprintf(`Host jump
    HostName 127.0.0.1
    Port %d
    User fleet
    IdentityFile %s
    IdentitiesOnly yes

Host %s-t*
    ProxyJump jump
    User fleet
    IdentityFile %s
    IdentitiesOnly yes
`, b.port, b.key, b.prefix, b.key))
		names := b.write(t, "names.yaml", fmt.Sprintf(
			"vars:\n  docker_users: [alice]\nhosts:\n  t1: {address: %s, become: true}\n"+
				"  t2: {address: %s, become: true}\n", b.targets[0], b.targets[1]))
		b.reset(t)

		code, res := b.fleetharden(t, "run", "-i", names, "-F", config)
		if code != 0 {
			t.Fatalf("run: exit status %d, want 0", code)
		}
		if res.Summary["changed"] != 2 {
			t.Errorf("run summary = %v, want both hosts changed", res.Summary)
		}
		b.checkHardened(t)

		code, res = b.fleetharden(t, "check", "-i", names, "-F", config)
		if code != 0 {
			t.Errorf("check: exit status %d, want 0 with no drift", code)
		}
		if res.Summary["ok"] != 2 {
			t.Errorf("check summary = %v, want both hosts ok", res.Summary)
		}
	})
}

// publishedPort returns the 127.0.0.1 port that Docker published for port 22 of name.
func publishedPort(t *testing.T, name string) int {
	t.Helper()
	out := strings.TrimSpace(mustDocker(t, "port", name, "22/tcp"))
	_, port, ok := strings.Cut(strings.Split(out, "\n")[0], "127.0.0.1:")
	n, err := strconv.Atoi(port)
	if !ok || err != nil {
		t.Fatalf("docker port %s 22/tcp = %q, want 127.0.0.1:PORT", name, out)
	}
	return n
}

// docker runs the docker CLI and returns its combined output.
func docker(args ...string) (string, error) {
	out, err := exec.Command("docker", args...).CombinedOutput()
	return string(out), err
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(args...)
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out
}
