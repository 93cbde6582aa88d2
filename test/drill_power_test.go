//go:build lab

package test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// drillHardened is drillOriginal after drillPlaybook's first task, as fleetharden writes it.
const drillHardened = "{\n  \"debug\": false,\n  \"no-new-privileges\": true\n}\n"

// drillPlaybook changes daemon.json, then keeps every host busy long enough for a drill to
// break one of them in the middle of a task.
const drillPlaybook = `name: drill
tasks:
  - name: Set no-new-privileges
    docker_daemon_config:
      settings: {no-new-privileges: true}
  - name: Wait
    command: {cmd: sleep 8}
`

// drillHardenPlaybook only changes daemon.json, for drills that break a host before the
// run.
const drillHardenPlaybook = `name: drill
tasks:
  - name: Set no-new-privileges
    docker_daemon_config:
      settings: {no-new-privileges: true}
`

func TestDrillHostPausedMidTask(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim, container := lab.names[0], lab.drillContainer(t, lab.names[0])
	inv := filepath.Join(lab.dir, "inventory.yaml")

	p := lab.startDrill(t, "run", "-i", inv, writeDrillPlaybook(t, drillPlaybook),
		"--task-timeout", "15s")
	waitForHardened(t, lab, victim)
	drillDocker(t, "pause", container)
	t.Cleanup(func() { tryDrillDocker("unpause", container) })
	r := p.wait(t)

	// A paused host still accepts TCP, so only the keepalive (3 missed replies 15 s apart)
	// or a timeout ends the wait for it.
	if r.elapsed > 2*time.Minute {
		t.Errorf("run took %v, want it to end within 2 minutes", r.elapsed)
	}
	checkBrokenHostResult(t, r, victim, "rollback_failed", "host unreachable", "keepalive")
	checkOthersChanged(t, lab, r, victim)

	drillDocker(t, "unpause", container)
	waitForSSH(t, lab, victim)
	checkDrillDaemonJSON(t, lab, victim, drillHardened)
	rollBackDrill(t, lab, r.results.RunID)
}

func TestDrillHostKilledMidTask(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim, container := lab.names[0], lab.drillContainer(t, lab.names[0])
	inv := filepath.Join(lab.dir, "inventory.yaml")

	p := lab.startDrill(t, "run", "-i", inv, writeDrillPlaybook(t, drillPlaybook),
		"--task-timeout", "15s")
	waitForHardened(t, lab, victim)
	drillDocker(t, "kill", container)
	t.Cleanup(func() { tryDrillDocker("start", container) })
	r := p.wait(t)

	if r.elapsed > 2*time.Minute {
		t.Errorf("run took %v, want it to end within 2 minutes", r.elapsed)
	}
	checkBrokenHostResult(t, r, victim, "rollback_failed", "host unreachable",
		"connection closed")
	checkOthersChanged(t, lab, r, victim)

	drillDocker(t, "start", container)
	waitForSSH(t, lab, victim)
	checkDrillDaemonJSON(t, lab, victim, drillHardened)
	rollBackDrill(t, lab, r.results.RunID)
}

func TestDrillSSHDStoppedBeforeRun(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim := lab.names[0]
	lab.drillExec(t, victim, "systemctl stop ssh")
	t.Cleanup(func() {
		lab.drillExec(t, victim, "systemctl start ssh")
		waitForSSH(t, lab, victim)
	})

	r := lab.drill(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		writeDrillPlaybook(t, drillHardenPlaybook))

	if r.exitCode != 4 {
		t.Errorf("exit status = %d, want 4 (a host unreachable, none failed)", r.exitCode)
	}
	if r.elapsed > time.Minute {
		t.Errorf("run took %v, want it to end within the 10 s connect timeout", r.elapsed)
	}
	checkBrokenHostResult(t, r, victim, "unreachable", "connect "+victim, "host unreachable")
	checkOthersChanged(t, lab, r, victim)

	lab.drillExec(t, victim, "systemctl start ssh")
	waitForSSH(t, lab, victim)
	if got := drillFileState(t, lab, victim, "/etc/docker/daemon.json"); got != originalState() {
		t.Errorf("%s: daemon.json is %q, want the original %q", victim, got, originalState())
	}
}

// waitForHardened waits until a host's daemon.json holds what drillPlaybook's first task
// writes, checking in the host's container, for at most a minute.
func waitForHardened(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	container := lab.drillContainer(t, host)
	drillWait(t, time.Minute, host+" hardened", func() bool {
		_, err := tryDrillDocker("exec", container, "grep", "-q", "no-new-privileges",
			"/etc/docker/daemon.json")
		return err == nil
	})
}

// waitForSSH waits until a host takes SSH logins and runs Docker again, for at most 90 s.
func waitForSSH(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	drillWait(t, 90*time.Second, host+" back on SSH", func() bool {
		_, err := lab.trySSH(host, "docker info >/dev/null")
		return err == nil
	})
}

// checkBrokenHostResult checks the broken host's status and that its message names the
// cause.
func checkBrokenHostResult(t *testing.T, r drillRun, host, status string, causes ...string) {
	t.Helper()
	h := r.host(t, host)
	if h.Status != status {
		t.Errorf("%s: status = %s, want %s", host, h.Status, status)
	}
	for _, cause := range causes {
		if !strings.Contains(h.Message, cause) {
			t.Errorf("%s: message %q does not name the cause %q", host, h.Message, cause)
		}
	}
}

// checkOthersChanged checks that every host but the broken one ended changed, with
// daemon.json whole and as drillHardenPlaybook leaves it.
func checkOthersChanged(t *testing.T, lab *e2eLab, r drillRun, broken string) {
	t.Helper()
	for _, host := range lab.names {
		if host == broken {
			continue
		}
		if h := r.host(t, host); h.Status != "changed" {
			t.Errorf("%s: status = %s (%s), want changed", host, h.Status, h.Message)
		}
		want := "644 root:root " + drillSHA256(drillHardened)
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != want {
			t.Errorf("%s: daemon.json is %q, want %q", host, got, want)
		}
	}
}

// rollBackDrill rolls back a drill's run on every host, then checks that each host has
// its original daemon.json back, with no temporary file left.
func rollBackDrill(t *testing.T, lab *e2eLab, runID string) {
	t.Helper()
	r := lab.drill(t, "rollback", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		"--run", runID)
	if r.exitCode != 0 {
		t.Errorf("rollback exit status = %d, want 0", r.exitCode)
	}
	for _, host := range lab.names {
		if h := r.host(t, host); h.Status != "rolled_back" && h.Status != "ok" {
			t.Errorf("%s: rollback status = %s (%s), want rolled_back or ok", host, h.Status,
				h.Message)
		}
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != originalState() {
			t.Errorf("%s: daemon.json after rollback is %q, want the original %q", host, got,
				originalState())
		}
		if temps := drillTempFiles(t, lab, host, "/etc/docker", "/var/lib/fleetharden"); temps != "" {
			t.Errorf("%s: temporary files left after rollback:\n%s", host, temps)
		}
	}
}
