//go:build lab

package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// managedState returns hashes of everything the built-in playbook may change on a host.
func managedState(t *testing.T, lab *e2eLab, host string) string {
	t.Helper()
	return lab.ssh(t, host, "sha256sum /etc/group /etc/gshadow; "+
		"sha256sum /etc/docker/daemon.json 2>/dev/null || echo no daemon.json; "+
		"systemctl show -p MainPID --value docker")
}

func TestCheckModeChangesNothing(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	before := map[string]string{}
	for _, host := range lab.names {
		before[host] = managedState(t, lab, host)
	}

	r := lab.run(t, "check", "-i", filepath.Join(lab.dir, "inventory.yaml"), "--diff")
	if r.exitCode != 6 {
		t.Errorf("exit status = %d, want 6 (hosts would change)", r.exitCode)
	}
	if !strings.Contains(r.stdout, `+  "no-new-privileges": true`) {
		t.Errorf("check --diff output lacks the daemon.json diff:\n%s", r.stdout)
	}
	for _, host := range lab.names {
		if status, _, _ := r.host(t, host); status != "changed" {
			t.Errorf("%s: check status = %s, want changed (would change)", host, status)
		}
		if after := managedState(t, lab, host); after != before[host] {
			t.Errorf("%s: check changed the host:\nbefore %s\nafter  %s", host, before[host], after)
		}
	}
}

func TestCanaryFailureStopsRollout(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	canary := lab.names[0]
	inv := lab.inventoryWith(t, canary, map[string]any{"docker_users": []string{"no_such_user"}})
	before := map[string]string{}
	for _, host := range lab.names {
		before[host] = managedState(t, lab, host)
	}

	r := lab.run(t, "run", "-i", inv, "--serial", "1,100%", "--max-fail-percent", "0")
	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3", r.exitCode)
	}
	if status, _, _ := r.host(t, canary); status != "failed" {
		t.Errorf("canary %s: status = %s, want failed", canary, status)
	}
	for _, host := range lab.names[1:] {
		if status, _, _ := r.host(t, host); status != "skipped" {
			t.Errorf("%s: status = %s, want skipped after the canary failed", host, status)
		}
		if after := managedState(t, lab, host); after != before[host] {
			t.Errorf("%s: touched although the rollout stopped:\nbefore %s\nafter  %s",
				host, before[host], after)
		}
	}
}

// slowPlaybook changes the daemon configuration, then waits, so the run can be killed
// while hosts are changed but not finished.
const slowPlaybook = `name: slow
tasks:
  - name: Set no-new-privileges
    docker_daemon_config:
      settings: {no-new-privileges: true}
  - name: Add alice to docker
    group_members: {group: docker, users: [alice]}
  - name: Wait
    command: {cmd: sleep 60}
`

func TestRollbackAfterKill(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	const original = "{\n  \"debug\": false\n}\n"
	lab.each(t, "printf '%s' '"+original+"' > /etc/docker/daemon.json")
	pb := filepath.Join(t.TempDir(), "slow.yaml")
	if err := os.WriteFile(pb, []byte(slowPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}

	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(lab.dir, "inventory.yaml")
	cmd := exec.Command(bin, "run", "-i", inv, pb, "--known-hosts", filepath.Join(lab.dir, "known_hosts"))
	cmd.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+lab.state)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForAll(t, lab, "id -nG alice | grep -qw docker")
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	runs, err := os.ReadDir(filepath.Join(lab.state, "runs"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("recorded runs = %v (%v), want exactly the killed one", runs, err)
	}
	id := runs[0].Name()
	r := lab.run(t, "rollback", "-i", inv, "--run", id)
	if r.exitCode != 0 {
		t.Errorf("rollback exit status = %d, want 0", r.exitCode)
	}
	for _, host := range lab.names {
		if status, _, _ := r.host(t, host); status != "rolled_back" {
			t.Errorf("%s: rollback status = %s, want rolled_back", host, status)
		}
		if got := lab.ssh(t, host, "cat /etc/docker/daemon.json"); got != original {
			t.Errorf("%s: daemon.json = %q, want the original %q", host, got, original)
		}
		if got := lab.ssh(t, host, "id -nG alice"); strings.Contains(got, "docker") {
			t.Errorf("%s: alice still in docker after rollback: %q", host, got)
		}
	}

	again := lab.run(t, "rollback", "-i", inv, "--run", id)
	if again.exitCode != 0 {
		t.Errorf("second rollback exit status = %d, want 0", again.exitCode)
	}
	for _, host := range lab.names {
		if status, _, _ := again.host(t, host); status != "ok" {
			t.Errorf("%s: second rollback status = %s, want ok (already rolled back)", host, status)
		}
	}
}

// waitForAll polls until cmd succeeds on every lab host, for at most a minute.
func waitForAll(t *testing.T, lab *e2eLab, cmd string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, host := range lab.names {
		for {
			if _, err := lab.trySSH(host, cmd); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %q did not succeed within a minute", host, cmd)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func TestInterruptRollsBackUnfinishedHosts(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	pb := filepath.Join(t.TempDir(), "slow.yaml")
	playbook := strings.Replace(slowPlaybook, "sleep 60", "sleep 5", 1) +
		"  - name: Never reached\n    command: {cmd: touch /tmp/never-reached}\n"
	if err := os.WriteFile(pb, []byte(playbook), 0o600); err != nil {
		t.Fatal(err)
	}
	lab.each(t, "rm -f /tmp/never-reached")

	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(t.TempDir(), "results.json")
	cmd := exec.Command(bin, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"), pb,
		"--known-hosts", filepath.Join(lab.dir, "known_hosts"), "--json", results)
	cmd.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+lab.state)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForAll(t, lab, "id -nG alice | grep -qw docker")
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()

	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit status = %d (%v), want 130", code, err)
	}
	if _, err := os.Stat(results); err != nil {
		t.Errorf("results not written after the interrupt: %v", err)
	}
	for _, host := range lab.names {
		if _, err := lab.trySSH(host, "test -e /etc/docker/daemon.json"); err == nil {
			t.Errorf("%s: daemon.json left behind, want the host rolled back", host)
		}
		if got := lab.ssh(t, host, "id -nG alice"); strings.Contains(got, "docker") {
			t.Errorf("%s: alice left in docker, want the host rolled back", host)
		}
		if _, err := lab.trySSH(host, "test -e /tmp/never-reached"); err == nil {
			t.Errorf("%s: a task started after the interrupt", host)
		}
	}
}

func TestOverlappingRunsWaitForTheHost(t *testing.T) {
	lab := openE2ELab(t)
	pb := filepath.Join(t.TempDir(), "wait.yaml")
	playbook := "name: wait\ntasks:\n  - name: Wait\n    command: {cmd: sleep 6}\n"
	if err := os.WriteFile(pb, []byte(playbook), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(lab.dir, "inventory.yaml")
	first := exec.Command(bin, "run", "-i", inv, pb, "--known-hosts", filepath.Join(lab.dir, "known_hosts"))
	first.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+lab.state)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Wait()
	waitForAll(t, lab, "pgrep -x sleep")

	busy := lab.run(t, "run", "-i", inv, pb, "--lock-timeout", "1s")
	if busy.exitCode != 3 {
		t.Errorf("run against locked hosts: exit status = %d, want 3", busy.exitCode)
	}
	if !strings.Contains(busy.stdout, "host locked by another run") {
		t.Errorf("run against locked hosts does not say why:\n%s", busy.stdout)
	}

	waited := lab.run(t, "run", "-i", inv, pb, "--lock-timeout", "60s")
	if waited.exitCode != 0 {
		t.Errorf("run that waits for the lock: exit status = %d, want 0", waited.exitCode)
	}
}
