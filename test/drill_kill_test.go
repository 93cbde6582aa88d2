//go:build lab

package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigLabelCount is the number of labels in bigPlaybook, which makes daemon.json about
// 260 KB, long enough to write that the drill can kill fleetharden in the middle of it.
const bigLabelCount = 4000

// bigPlaybook returns a playbook that writes a daemon.json of bigLabelCount labels.
func bigPlaybook() string {
	labels := make([]string, bigLabelCount)
	for i := range labels {
		labels[i] = fmt.Sprintf("%q", fmt.Sprintf("drill.label%05d=%s", i, strings.Repeat("x", 40)))
	}
	return "name: drill\ntasks:\n  - name: Write many labels\n    docker_daemon_config:\n" +
		"      settings:\n        labels: [" + strings.Join(labels, ", ") + "]\n"
}

func TestDrillKilledDuringWrite(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim := lab.names[0]
	inv := filepath.Join(lab.dir, "inventory.yaml")
	pb := writeDrillPlaybook(t, bigPlaybook())
	// The victim sends at 100 kbit/s, which slows the acknowledgements of the write enough
	// for its temporary file to exist for a few seconds.
	lab.drillExec(t, victim, "tc qdisc add dev eth0 root tbf rate 100kbit burst 1600 latency 10s")
	t.Cleanup(func() { lab.drillExec(t, victim, "tc qdisc del dev eth0 root || true") })

	p := lab.startDrill(t, "run", "-i", inv, pb)
	waitForTempFile(t, lab, victim)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	lab.drillExec(t, victim, "tc qdisc del dev eth0 root")
	killedRun := onlyRecordedRun(t, lab)
	for _, host := range lab.names {
		checkWholeDaemonJSON(t, lab, host)
	}
	if temps := drillTempFiles(t, lab, victim, "/etc/docker"); temps == "" {
		t.Errorf("%s: no temporary file after the kill, so the drill did not kill a write",
			victim)
	}

	again := lab.drill(t, "run", "-i", inv, pb)

	if again.exitCode != 0 {
		t.Errorf("second run exit status = %d, want 0", again.exitCode)
	}
	written := drillFileState(t, lab, victim, "/etc/docker/daemon.json")
	for _, host := range lab.names {
		if h := again.host(t, host); h.Status != "changed" && h.Status != "ok" {
			t.Errorf("%s: second run status = %s (%s), want changed or ok", host, h.Status,
				h.Message)
		}
		if got := checkWholeDaemonJSON(t, lab, host); got != bigLabelCount {
			t.Errorf("%s: daemon.json has %d labels after the second run, want %d", host, got,
				bigLabelCount)
		}
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != written {
			t.Errorf("%s: daemon.json is %q, want %q as on %s", host, got, written, victim)
		}
		if temps := drillTempFiles(t, lab, host, "/etc/docker", "/var/lib/fleetharden"); temps != "" {
			t.Errorf("%s: temporary files left after the second run:\n%s", host, temps)
		}
	}

	// The second run changed only the hosts that the killed run had not, so rolling back
	// both restores every host.
	for _, id := range []string{again.results.RunID, killedRun} {
		r := lab.drill(t, "rollback", "-i", inv, "--run", id)
		if r.exitCode != 0 {
			t.Errorf("rollback of %s: exit status = %d, want 0", id, r.exitCode)
		}
	}
	for _, host := range lab.names {
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != originalState() {
			t.Errorf("%s: daemon.json after both rollbacks is %q, want the original %q", host,
				got, originalState())
		}
		if temps := drillTempFiles(t, lab, host, "/etc/docker", "/var/lib/fleetharden"); temps != "" {
			t.Errorf("%s: temporary files left after the rollbacks:\n%s", host, temps)
		}
	}
}

// waitForTempFile waits until a write's temporary file shows in a host's /etc/docker,
// watching from inside the host's container, for at most a minute.
func waitForTempFile(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	watch := "until ls -a /etc/docker | grep -q '[.]fleetharden-'; do sleep 0.02; done"
	out, err := exec.CommandContext(ctx, "docker", "exec", lab.drillContainer(t, host),
		"sh", "-c", watch).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: no temporary file appeared in /etc/docker: %v: %s", host, err, out)
	}
}

// onlyRecordedRun returns the id of the one run in the test's state directory.
func onlyRecordedRun(t *testing.T, lab *e2eLab) string {
	t.Helper()
	runs, err := os.ReadDir(filepath.Join(lab.state, "runs"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("recorded runs = %v (%v), want exactly the killed one", runs, err)
	}
	return runs[0].Name()
}

// checkWholeDaemonJSON checks that a host's daemon.json is a JSON object, owned by root
// with the mode of the original or of a file fleetharden wrote, and returns its number of
// labels.
func checkWholeDaemonJSON(t *testing.T, lab *e2eLab, host string) int {
	t.Helper()
	state := drillFileState(t, lab, host, "/etc/docker/daemon.json")
	if !strings.HasPrefix(state, "640 root:root ") && !strings.HasPrefix(state, "644 root:root ") {
		t.Errorf("%s: daemon.json is %q, want root-owned with mode 640 or 644", host, state)
	}
	var doc struct {
		Labels []string `json:"labels"`
	}
	data := lab.ssh(t, host, "cat /etc/docker/daemon.json")
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		t.Errorf("%s: daemon.json is not whole JSON: %v", host, err)
	}
	return len(doc.Labels)
}
