//go:build lab

package test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dpkgLockHolder holds dpkg's frontend lock the way apt-get and dpkg take it, with an
// fcntl lock, until it is killed. flock(1) would take a BSD lock, which apt does not see.
// Its last line names the process for "pkill -f fleetharden-drill-[l]ock", a pattern that
// the shell running pkill does not match itself.
const dpkgLockHolder = `import fcntl, time
f = open("/var/lib/dpkg/lock-frontend", "a")
fcntl.lockf(f, fcntl.LOCK_EX)
time.sleep(300)
# fleetharden-drill-lock`

// dpkgLockProbe exits 0 when nothing holds dpkg's frontend lock.
const dpkgLockProbe = `python3 -c 'import fcntl
fcntl.lockf(open("/var/lib/dpkg/lock-frontend", "a"), fcntl.LOCK_EX | fcntl.LOCK_NB)'`

// drillAptPlaybook upgrades a package every lab host has, which needs dpkg's frontend
// lock, and waits at most 5 s for it.
const drillAptPlaybook = `name: drill
tasks:
  - name: Upgrade less
    apt: {upgrade: [less], lock_timeout: 5s}
`

func TestDrillPackageLockHeld(t *testing.T) {
	lab := openE2ELab(t)
	victim := lab.names[0]
	container := lab.drillContainer(t, victim)
	drillDocker(t, "exec", "-d", container, "python3", "-c", dpkgLockHolder)
	t.Cleanup(func() { lab.drillExec(t, victim, "pkill -f fleetharden-drill-[l]ock; true") })
	drillWait(t, 10*time.Second, "dpkg lock held on "+victim, func() bool {
		_, err := tryDrillDocker("exec", container, "sh", "-c", dpkgLockProbe)
		return err != nil
	})

	r := lab.drill(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		writeDrillPlaybook(t, drillAptPlaybook))

	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3 (a host failed)", r.exitCode)
	}
	// apt-get is retried every 2 s until the 5 s lock_timeout, and one try can take a few
	// seconds, so the bound leaves room for both.
	if r.elapsed > time.Minute {
		t.Errorf("run took %v, want it to end within a minute", r.elapsed)
	}
	checkBrokenHostResult(t, r, victim, "failed", "/var/lib/dpkg/lock-frontend",
		"held by process", "python3", "after waiting 5s")
	for _, host := range lab.names[1:] {
		if h := r.host(t, host); h.Status != "ok" && h.Status != "changed" {
			t.Errorf("%s: status = %s (%s), want ok or changed", host, h.Status, h.Message)
		}
	}

	lab.drillExec(t, victim, "pkill -f fleetharden-drill-[l]ock; true")
	drillWait(t, 10*time.Second, "dpkg lock free on "+victim, func() bool {
		_, err := tryDrillDocker("exec", container, "sh", "-c", dpkgLockProbe)
		return err == nil
	})
	out := lab.ssh(t, victim, "dpkg --audit; echo status $?")
	if strings.TrimSpace(out) != "status 0" {
		t.Errorf("%s: dpkg --audit after the drill printed %q, want nothing", victim, out)
	}
}
