//go:build lab

package test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFlagsUnsafeContainerOnLab runs the built-in playbook on a host with one
// container that adds a capability and one that is confined. It runs once with the
// Docker API read through curl and once through the docker CLI, and checks both times
// that only the unsafe container fails the check.
func TestRunFlagsUnsafeContainerOnLab(t *testing.T) {
	lab := openE2ELab(t)
	host := lab.names[0]
	const cleanup = "docker rm -f verify-cap-add verify-confined >/dev/null 2>&1; " +
		"chmod 755 /usr/bin/curl; true"
	lab.ssh(t, host, cleanup)
	t.Cleanup(func() { lab.ssh(t, host, cleanup) })
	inv := filepath.Join(lab.dir, "inventory.yaml")
	// A run that restarts Docker stops the containers, so the host is hardened first.
	if r := lab.run(t, "run", "-i", inv, "--limit", host); r.exitCode != 0 {
		t.Fatalf("hardening run exit status = %d, want 0", r.exitCode)
	}
	lab.ssh(t, host, "docker run -d --name verify-cap-add --cap-add SYS_ADMIN "+limits+
		" fleetharden-lab-workload >/dev/null && docker run -d --name verify-confined "+
		"--cap-drop ALL "+limits+" fleetharden-lab-workload >/dev/null")

	for _, tool := range []string{"curl", "docker CLI"} {
		if tool == "docker CLI" {
			// Without an executable curl the task falls back to the docker CLI.
			lab.ssh(t, host, "chmod 644 /usr/bin/curl")
		}
		r := lab.run(t, "run", "-i", inv, "--limit", host)

		if r.exitCode != 3 {
			t.Errorf("%s: exit status = %d, want 3 for a failed task", tool, r.exitCode)
		}
		status, facts, _ := r.host(t, host)
		if status != "failed" {
			t.Errorf("%s: host status = %s, want failed", tool, status)
		}
		version := strings.TrimSpace(lab.ssh(t, host, "docker version --format '{{.Server.Version}}'"))
		if facts["docker_version"] != version {
			t.Errorf("%s: fact docker_version = %v, want %s", tool, facts["docker_version"], version)
		}
		msg := taskMessage(t, r, host, "verify_containers")
		if !strings.Contains(msg, "verify-cap-add (cap_add SYS_ADMIN)") {
			t.Errorf("%s: check message = %q, want verify-cap-add flagged for SYS_ADMIN", tool, msg)
		}
		if strings.Contains(msg, "verify-confined") {
			t.Errorf("%s: check message = %q flags the confined container", tool, msg)
		}
	}
}

// taskMessage returns the message of the first task of kind on host.
func taskMessage(t *testing.T, r e2eRun, host, kind string) string {
	t.Helper()
	for _, h := range r.results.Hosts {
		if h.Name != host {
			continue
		}
		for _, task := range h.Tasks {
			if task.Kind == kind {
				return task.Message
			}
		}
	}
	t.Fatalf("%s: no %s task in the results", host, kind)
	return ""
}
