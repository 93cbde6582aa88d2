//go:build lab

package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ansibleInventory writes the lab's hosts as an Ansible YAML inventory for user.
func (l *e2eLab) ansibleInventory(t *testing.T, user string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("all:\n  vars:\n    docker_users: [alice]\n  children:\n    lab:\n      hosts:\n")
	for _, name := range l.names {
		h := l.hosts[name]
		fmt.Fprintf(&b, "        %s:\n          ansible_host: 127.0.0.1\n"+
			"          ansible_port: %d\n          ansible_user: %s\n"+
			"          ansible_ssh_private_key_file: %s\n          ansible_become: yes\n",
			name, h.Port, user, h.Key)
	}
	path := filepath.Join(t.TempDir(), "hosts.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAnsibleInventoryOnLab(t *testing.T) {
	lab := openE2ELab(t)
	inv := lab.ansibleInventory(t, "fleet")

	r := lab.run(t, "run", "-i", inv)
	if r.exitCode != 0 {
		t.Fatalf("run with an Ansible inventory: exit status = %d", r.exitCode)
	}
	for _, name := range lab.names {
		status, facts, _ := r.host(t, name)
		if status != "ok" && status != "changed" {
			t.Errorf("%s: status = %s, want ok or changed", name, status)
		}
		if facts["docker_version"] == nil {
			t.Errorf("%s: no docker_version fact", name)
		}
	}
}

func TestSudoPasswordFromFile(t *testing.T) {
	lab := openE2ELab(t)
	inv := lab.ansibleInventory(t, "fleetpw")
	pass := filepath.Join(lab.dir, "become-pass")

	denied := lab.run(t, "run", "-i", inv)
	if denied.exitCode != 3 {
		t.Errorf("run without the sudo password: exit status = %d, want 3", denied.exitCode)
	}
	if !strings.Contains(denied.stdout, "--become-pass-file") {
		t.Errorf("the failure does not say how to give the password:\n%s", denied.stdout)
	}

	r := lab.run(t, "run", "-i", inv, "--become-pass-file", pass)
	if r.exitCode != 0 {
		t.Fatalf("run with --become-pass-file: exit status = %d", r.exitCode)
	}
	secret, err := os.ReadFile(pass)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stdout+r.stderr, strings.TrimSpace(string(secret))) {
		t.Errorf("the sudo password appears in the output")
	}

	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := lab.run(t, "run", "-i", inv, "--become-pass-file", wrong)
	if bad.exitCode != 3 {
		t.Errorf("run with a wrong sudo password: exit status = %d, want 3", bad.exitCode)
	}
	if strings.Contains(bad.stdout+bad.stderr, "not-the-password") {
		t.Errorf("the wrong sudo password appears in the output")
	}
}

func TestSSHAgentKey(t *testing.T) {
	lab := openE2ELab(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("start ssh-agent: %v", err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	waitForSocket(t, sock)
	add := exec.Command("ssh-add", lab.hosts[lab.names[0]].Key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}

	// An inventory without key files, and a home without keys, leave only the agent.
	inv := lab.ansibleInventory(t, "fleet")
	data, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "ansible_ssh_private_key_file") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(inv, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	// Build first: the go command needs the real HOME for its module cache.
	if _, err := fleethardenOnce(); err != nil {
		t.Fatalf("build fleetharden: %v", err)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	t.Setenv("HOME", t.TempDir())

	r := lab.run(t, "run", "-i", inv)
	if r.exitCode != 0 {
		t.Fatalf("run with an ssh-agent key: exit status = %d", r.exitCode)
	}
	for _, name := range lab.names {
		if status, _, _ := r.host(t, name); status != "ok" && status != "changed" {
			t.Errorf("%s: status = %s, want ok or changed", name, status)
		}
	}
}

func waitForSocket(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}
