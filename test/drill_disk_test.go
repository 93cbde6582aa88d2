//go:build lab

package test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fillEtcDocker mounts a 16 KiB tmpfs over a host's /etc/docker with the files it held,
// then fills the rest of it, so the next write there fails for lack of space. The cleanup
// unmounts it, which brings back the directory as it was.
func fillEtcDocker(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	lab.drillExec(t, host, "rm -rf /run/drill-etc-docker && "+
		"cp -a /etc/docker /run/drill-etc-docker && "+
		"mount -t tmpfs -o size=16k,mode=0755 fleetharden-drill /etc/docker")
	t.Cleanup(func() {
		lab.drillExec(t, host, "umount /etc/docker; rm -rf /run/drill-etc-docker")
	})
	lab.drillExec(t, host, "cp -a /run/drill-etc-docker/. /etc/docker/ && "+
		"{ dd if=/dev/zero of=/etc/docker/filler bs=1k 2>/dev/null; true; }")

	free := lab.drillExec(t, host, "df --output=avail -B1 /etc/docker | tail -1")
	if strings.TrimSpace(free) != "0" {
		t.Fatalf("%s: /etc/docker has %s bytes free after filling it, want 0", host, free)
	}
}

func TestDrillDiskFullDuringWrite(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim := lab.names[0]
	fillEtcDocker(t, lab, victim)

	r := lab.drill(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		writeDrillPlaybook(t, drillHardenPlaybook))

	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3 (a host failed and was rolled back)", r.exitCode)
	}
	if r.elapsed > time.Minute {
		t.Errorf("run took %v, want it to end within a minute", r.elapsed)
	}
	checkBrokenHostResult(t, r, victim, "rolled_back", "write /etc/docker/daemon.json",
		"no space left on device")
	want := []string{"restore /etc/docker/daemon.json (unchanged since the run began)"}
	if got := r.host(t, victim).Rollback; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: rollback steps = %q, want %q", victim, got, want)
	}
	checkOthersChanged(t, lab, r, victim)

	if got := drillFileState(t, lab, victim, "/etc/docker/daemon.json"); got != originalState() {
		t.Errorf("%s: daemon.json is %q, want the original %q", victim, got, originalState())
	}
	if temps := drillTempFiles(t, lab, victim, "/etc/docker"); temps != "" {
		t.Errorf("%s: temporary files left on the full disk:\n%s", victim, temps)
	}
}
