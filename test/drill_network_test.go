//go:build lab

package test

import (
	"path/filepath"
	"testing"
	"time"
)

// sshDropRules are iptables rule specifications that drop a lab host's SSH traffic in both
// directions. As with a cut cable, no reset reaches either side.
var sshDropRules = []string{
	"INPUT -p tcp --dport 22 -j DROP",
	"OUTPUT -p tcp --sport 22 -j DROP",
}

func TestDrillNetworkCutMidTask(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim := lab.names[0]
	inv := filepath.Join(lab.dir, "inventory.yaml")

	p := lab.startDrill(t, "run", "-i", inv, writeDrillPlaybook(t, drillPlaybook),
		"--task-timeout", "15s")
	waitForHardened(t, lab, victim)
	for _, rule := range sshDropRules {
		lab.drillExec(t, victim, "iptables -I "+rule)
	}
	t.Cleanup(func() { restoreNetwork(t, lab, victim) })
	r := p.wait(t)

	if r.elapsed > 2*time.Minute {
		t.Errorf("run took %v, want it to end within 2 minutes", r.elapsed)
	}
	checkBrokenHostResult(t, r, victim, "rollback_failed", "host unreachable", "keepalive")
	checkOthersChanged(t, lab, r, victim)

	restoreNetwork(t, lab, victim)
	waitForSSH(t, lab, victim)
	checkDrillDaemonJSON(t, lab, victim, drillHardened)
	rollBackDrill(t, lab, r.results.RunID)
}

// restoreNetwork deletes the rules that sshDropRules added, as many times as they were
// added.
func restoreNetwork(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	for _, rule := range sshDropRules {
		lab.drillExec(t, host, "while iptables -D "+rule+" 2>/dev/null; do :; done")
	}
}

// The lab kernel has no sch_netem, so the slow host is a token bucket filter that limits
// what the host sends to 8 kbit/s. Its SSH handshake alone then takes seconds.
func TestDrillSlowHost(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim := lab.names[0]
	inv := filepath.Join(lab.dir, "inventory.yaml")
	pb := writeDrillPlaybook(t, drillHardenPlaybook)
	lab.drillExec(t, victim, "tc qdisc add dev eth0 root tbf rate 8kbit burst 1600 latency 10s")
	t.Cleanup(func() { lab.drillExec(t, victim, "tc qdisc del dev eth0 root || true") })

	slow := lab.drill(t, "run", "-i", inv, pb)

	if slow.exitCode != 0 {
		t.Errorf("exit status = %d, want 0: a slow host is not a failure", slow.exitCode)
	}
	if slow.elapsed > 2*time.Minute {
		t.Errorf("run took %v, want it to end within 2 minutes", slow.elapsed)
	}
	checkOthersChanged(t, lab, slow, "")
	for _, host := range lab.names[1:] {
		if h, v := slow.host(t, host), slow.host(t, victim); h.DurationMS >= v.DurationMS {
			t.Errorf("%s took %d ms and the slow %s %d ms, want the slow host last", host,
				h.DurationMS, victim, v.DurationMS)
		}
	}

	timedOut := lab.drill(t, "run", "-i", inv, pb, "--connect-timeout", "1s")

	if timedOut.exitCode != 4 {
		t.Errorf("exit status with a 1 s connect timeout = %d, want 4", timedOut.exitCode)
	}
	if timedOut.elapsed > time.Minute {
		t.Errorf("run with a 1 s connect timeout took %v, want it to end within a minute",
			timedOut.elapsed)
	}
	checkBrokenHostResult(t, timedOut, victim, "unreachable", "timed out after 1s")
	// The drill playbook restarts nothing, so a second run may still report the restart
	// that the first run's change needs.
	for _, host := range lab.names[1:] {
		if h := timedOut.host(t, host); h.Status != "ok" && h.Status != "changed" {
			t.Errorf("%s: second run status = %s (%s), want ok or changed", host, h.Status,
				h.Message)
		}
	}
}
