//go:build lab

package test

import (
	"os"
	"path/filepath"
	"testing"
)

// brokenDaemonPlaybook asks for a storage driver the lab hosts' filesystem cannot serve, so
// the daemon stops on restart and every host must roll back.
const brokenDaemonPlaybook = `name: break the daemon
tasks:
  - name: Use a storage driver the host lacks
    docker_daemon_config:
      settings:
        storage-driver: btrfs
    notify: restart docker
handlers:
  - name: restart docker
    service:
      name: docker
      timeout: 20s
`

func TestRollbackWhenDockerCannotStart(t *testing.T) {
	lab := openE2ELab(t)
	lab.reset(t)
	const original = "{\n    \"debug\":   false\n}\n"
	lab.each(t, "mkdir -p /etc/docker && printf '%s' '"+original+"' > /etc/docker/daemon.json"+
		" && chmod 600 /etc/docker/daemon.json && systemctl reset-failed docker && systemctl restart docker")
	pb := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(pb, []byte(brokenDaemonPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}

	r := lab.run(t, "run", "-i", filepath.Join(lab.dir, "inventory.yaml"), pb)
	if r.exitCode != 3 {
		t.Errorf("exit status = %d, want 3", r.exitCode)
	}
	for _, host := range lab.names {
		if status, _, _ := r.host(t, host); status != "rolled_back" {
			t.Errorf("%s: status = %s, want rolled_back", host, status)
		}
		if got := lab.ssh(t, host, "cat /etc/docker/daemon.json"); got != original {
			t.Errorf("%s: daemon.json = %q, want the original bytes %q", host, got, original)
		}
		if got := lab.ssh(t, host, "stat -c '%a %U' /etc/docker/daemon.json"); got != "600 root\n" {
			t.Errorf("%s: daemon.json mode = %q, want the original 600 root", host, got)
		}
		if got := lab.ssh(t, host, "systemctl is-active docker && docker info --format '{{.Driver}}'"); got != "active\noverlay2\n" {
			t.Errorf("%s: docker after rollback = %q, want active on overlay2", host, got)
		}
	}
}
