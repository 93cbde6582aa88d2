//go:build lab

package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestHardenTwiceOnLab(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	inv := filepath.Join(lab.dir, "inventory.yaml")

	first := lab.run(t, "run", "-i", inv)
	if first.exitCode != 0 {
		t.Fatalf("first run exit status = %d, want 0", first.exitCode)
	}
	pids := map[string]string{}
	for _, name := range lab.names {
		status, facts, _ := first.host(t, name)
		if status != "changed" {
			t.Errorf("%s: first run status = %s, want changed", name, status)
		}
		checkHardened(t, lab, name, facts)
		pids[name] = lab.ssh(t, name, "systemctl show -p MainPID --value docker")
	}

	second := lab.run(t, "run", "-i", inv)
	if second.exitCode != 0 {
		t.Fatalf("second run exit status = %d, want 0", second.exitCode)
	}
	for _, name := range lab.names {
		status, _, changed := second.host(t, name)
		if status != "ok" {
			t.Errorf("%s: second run status = %s, want ok", name, status)
		}
		if len(changed) > 0 {
			t.Errorf("%s: second run changed %v, want nothing", name, changed)
		}
		if pid := lab.ssh(t, name, "systemctl show -p MainPID --value docker"); pid != pids[name] {
			t.Errorf("%s: docker restarted by the second run (pid %s -> %s)",
				name, strings.TrimSpace(pids[name]), strings.TrimSpace(pid))
		}
	}
	if second.results.Summary["ok"] != len(lab.names) {
		t.Errorf("second run summary = %v, want every host ok", second.results.Summary)
	}
}

// checkHardened compares a host's real state with what the built-in playbook promises and
// with the facts the run reported.
func checkHardened(t *testing.T, lab *e2eLab, host string, facts map[string]any) {
	t.Helper()
	var cfg map[string]any
	raw := lab.ssh(t, host, "cat /etc/docker/daemon.json")
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatalf("%s: daemon.json is not JSON: %v\n%s", host, err, raw)
	}
	if cfg["no-new-privileges"] != true || cfg["log-driver"] != "json-file" {
		t.Errorf("%s: daemon.json = %s, want no-new-privileges and json-file", host, raw)
	}
	opts, _ := cfg["log-opts"].(map[string]any)
	if opts["max-size"] != "10m" || opts["max-file"] != "3" {
		t.Errorf("%s: log-opts = %v, want max-size 10m and max-file \"3\"", host, opts)
	}
	if got := lab.ssh(t, host, "stat -c '%a %U %G' /etc/docker/daemon.json"); got != "644 root root\n" {
		t.Errorf("%s: daemon.json mode and owner = %q, want 644 root root", host, got)
	}

	if got := lab.ssh(t, host, "systemctl is-active docker"); got != "active\n" {
		t.Errorf("%s: docker is %q, want active", host, got)
	}
	if got := lab.ssh(t, host, "docker info --format '{{.LoggingDriver}}'"); got != "json-file\n" {
		t.Errorf("%s: running daemon logs with %q, want json-file", host, got)
	}
	if got := lab.ssh(t, host, "ss -Hltnp | grep -E 'dockerd|docker-proxy' || true"); got != "" {
		t.Errorf("%s: docker listens on TCP:\n%s", host, got)
	}
	if got := lab.ssh(t, host, "id -nG alice"); !strings.Contains(" "+got, " docker") {
		t.Errorf("%s: alice is in %q, want docker among them", host, got)
	}

	version := strings.TrimSpace(lab.ssh(t, host, "docker version --format '{{.Server.Version}}'"))
	if facts["docker_version"] != version {
		t.Errorf("%s: fact docker_version = %v, want the server's %s", host, facts["docker_version"], version)
	}
}

func TestFailingHostDoesNotStopOthers(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	bad := lab.names[0]
	inv := lab.inventoryWith(t, bad, map[string]any{"docker_users": []string{"alice", "no_such_user"}})

	r := lab.run(t, "run", "-i", inv)
	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3 (a host failed)", r.exitCode)
	}

	// The group members task fails before any task has changed the host, so there is
	// nothing to roll back and the daemon keeps its configuration.
	status, _, changed := r.host(t, bad)
	if status != "failed" {
		t.Errorf("%s: status = %s, want failed", bad, status)
	}
	if len(changed) > 0 {
		t.Errorf("%s: changed %v before failing, want nothing", bad, changed)
	}
	if out, err := lab.trySSH(bad, "test -e /etc/docker/daemon.json"); err == nil {
		t.Errorf("%s: daemon.json exists (%s), want it absent as before the run", bad, out)
	}
	if got := lab.ssh(t, bad, "id -nG alice"); strings.Contains(got, "docker") {
		t.Errorf("%s: alice was added to docker (%q), want no partial membership change", bad, got)
	}
	if got := lab.ssh(t, bad, "systemctl is-active docker"); got != "active\n" {
		t.Errorf("%s: docker is %q, want active", bad, got)
	}
	for _, name := range lab.names[1:] {
		if status, _, _ := r.host(t, name); status != "changed" {
			t.Errorf("%s: status = %s, want changed despite %s failing", name, status, bad)
		}
	}
}

// inventoryWith writes a copy of the lab inventory in which host has the given variables.
func (l *e2eLab) inventoryWith(t *testing.T, host string, vars map[string]any) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(l.dir, "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	hosts := doc["groups"].(map[string]any)["lab"].(map[string]any)["hosts"].(map[string]any)
	hosts[host].(map[string]any)["vars"] = vars
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

func TestRunStartsStoppedDockerOnLab(t *testing.T) {
	lab := openE2ELab(t)
	host := lab.names[1]
	inv := filepath.Join(lab.dir, "inventory.yaml")
	if r := lab.run(t, "run", "-i", inv, "--limit", host); r.exitCode != 0 {
		t.Fatalf("hardening run exit status = %d, want 0", r.exitCode)
	}
	lab.ssh(t, host, "systemctl stop docker.socket docker.service")
	t.Cleanup(func() { lab.trySSH(host, "systemctl start docker") })

	r := lab.run(t, "run", "-i", inv, "--limit", host)

	if r.exitCode != 0 {
		t.Errorf("exit status = %d, want 0", r.exitCode)
	}
	if status, _, _ := r.host(t, host); status != "changed" {
		t.Errorf("host status = %s, want changed", status)
	}
	if got := lab.ssh(t, host, "systemctl is-active docker"); got != "active\n" {
		t.Errorf("docker is %q after the run, want active", got)
	}
}
