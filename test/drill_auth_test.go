//go:build lab

package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDrillHostKeyChanged(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	victim := lab.names[0]
	knownHosts := filepath.Join(lab.dir, "known_hosts")
	before := readFileString(t, knownHosts)
	lab.drillExec(t, victim, "rm -rf /root/drill-host-keys && mkdir /root/drill-host-keys && "+
		"cp -p /etc/ssh/ssh_host_* /root/drill-host-keys/ && rm -f /etc/ssh/ssh_host_* && "+
		"ssh-keygen -A -q && systemctl restart ssh")
	t.Cleanup(func() {
		lab.drillExec(t, victim, "cp -p /root/drill-host-keys/* /etc/ssh/ && "+
			"rm -rf /root/drill-host-keys && systemctl restart ssh")
		waitForSSH(t, lab, victim)
	})

	// --accept-new-host-keys records unknown hosts only, so a changed key is still rejected.
	r := lab.drill(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"),
		writeDrillPlaybook(t, drillHardenPlaybook), "--accept-new-host-keys")

	if r.exitCode != 4 {
		t.Errorf("exit status = %d, want 4 (a host unreachable, none failed)", r.exitCode)
	}
	checkBrokenHostResult(t, r, victim, "unreachable", "host key changed",
		"ssh-keygen -f '"+knownHosts+"' -R '[127.0.0.1]:"+itoa(lab.hosts[victim].Port)+"'")
	checkOthersChanged(t, lab, r, victim)
	if after := readFileString(t, knownHosts); after != before {
		t.Errorf("known_hosts changed during the run:\nbefore %s\nafter  %s", before, after)
	}
	state := lab.drillExec(t, victim, "stat -c '%a %U:%G' /etc/docker/daemon.json | "+
		"tr '\\n' ' '; sha256sum < /etc/docker/daemon.json | cut -d' ' -f1")
	if strings.TrimSpace(state) != originalState() {
		t.Errorf("%s: daemon.json is %q, want the original %q", victim, state, originalState())
	}
}

func TestDrillWrongSudoPassword(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	inv := inventoryWithUser(t, lab, "fleetpw")
	const wrong = "drill-wrong-sudo-pw-7c1e"
	wrongFile := writeSecretFile(t, wrong)

	r := lab.drill(t, "run", "-i", inv, writeDrillPlaybook(t, drillHardenPlaybook),
		"--become-pass-file", wrongFile)

	// sudo rejecting the password is a failure of the host's setup, not of the network.
	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3 (hosts failed)", r.exitCode)
	}
	for _, host := range lab.names {
		checkBrokenHostResult(t, r, host, "failed", "become root as fleetpw",
			"incorrect password")
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != originalState() {
			t.Errorf("%s: daemon.json is %q, want the original %q", host, got, originalState())
		}
	}
	for name, text := range map[string]string{"stdout": r.stdout, "stderr": r.stderr,
		"results": string(r.json)} {
		if strings.Contains(text, wrong) {
			t.Errorf("the wrong password appears in the %s", name)
		}
	}

	right := lab.drill(t, "run", "-i", inv, writeDrillPlaybook(t, drillHardenPlaybook),
		"--become-pass-file", filepath.Join(lab.dir, "become-pass"))
	if right.exitCode != 0 {
		t.Errorf("exit status with the right password = %d, want 0", right.exitCode)
	}
	checkOthersChanged(t, lab, right, "")
}

// drillUser is a user on every lab host that logs in with the lab's key and may not use
// sudo, with the password drillUserPassword.
const (
	drillUser         = "drillnosudo"
	drillUserPassword = "drill-nosudo-pw-5d2a"
)

func TestDrillSudoDenied(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	addUserWithoutSudo(t, lab)
	inv := inventoryWithUser(t, lab, drillUser)
	pb := writeDrillPlaybook(t, drillHardenPlaybook)

	noPassword := lab.drill(t, "run", "-i", inv, pb)
	withPassword := lab.drill(t, "run", "-i", inv, pb,
		"--become-pass-file", writeSecretFile(t, drillUserPassword))

	for _, r := range []drillRun{noPassword, withPassword} {
		if r.exitCode != 3 {
			t.Errorf("exit status = %d, want 3 (hosts failed)", r.exitCode)
		}
	}
	for _, host := range lab.names {
		checkBrokenHostResult(t, noPassword, host, "failed",
			"become root as "+drillUser, "sudo requires a password or rejected the user")
		checkBrokenHostResult(t, withPassword, host, "failed",
			"become root as "+drillUser, "sudo rejected the user", "not in the sudoers")
		if got := drillFileState(t, lab, host, "/etc/docker/daemon.json"); got != originalState() {
			t.Errorf("%s: daemon.json is %q, want the original %q", host, got, originalState())
		}
	}
}

// addUserWithoutSudo creates drillUser on every lab host, and deletes it at the end of the
// test.
func addUserWithoutSudo(t *testing.T, lab *e2eLab) {
	t.Helper()
	lab.each(t, "useradd -m -s /bin/sh "+drillUser+" && echo "+drillUser+":"+
		drillUserPassword+" | chpasswd && install -d -m 700 -o "+drillUser+" -g "+drillUser+
		" /home/"+drillUser+"/.ssh && install -m 600 -o "+drillUser+" -g "+drillUser+
		" /home/fleet/.ssh/authorized_keys /home/"+drillUser+"/.ssh/authorized_keys")
	t.Cleanup(func() {
		// systemd keeps a user manager for a while after the last login, and userdel
		// refuses to delete a user with running processes.
		lab.each(t, "systemctl stop user@$(id -u "+drillUser+").service; "+
			"userdel -r "+drillUser+" 2>/dev/null; ! id "+drillUser+" 2>/dev/null")
	})
}

// inventoryWithUser writes a copy of the lab inventory in which every host logs in as user.
func inventoryWithUser(t *testing.T, lab *e2eLab, user string) string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(readFileString(t, filepath.Join(lab.dir,
		"inventory.yaml"))), &doc); err != nil {
		t.Fatal(err)
	}
	hosts := doc["groups"].(map[string]any)["lab"].(map[string]any)["hosts"].(map[string]any)
	for _, h := range hosts {
		h.(map[string]any)["user"] = user
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSecretFile writes a password file for --become-pass-file, mode 0600.
func writeSecretFile(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "become-pass")
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
