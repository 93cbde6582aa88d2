package tasks

import (
	"strings"
	"testing"
)

func TestDaemonConfigPathMustBeClean(t *testing.T) {
	for _, p := range []string{"/etc/docker/../shadow", "/etc/docker/./daemon.json",
		"/etc//docker/daemon.json", "/etc/docker/daemon.json/"} {
		_, err := newDaemonConfigTask(Args{"path": p, "settings": map[string]any{"debug": true}})
		if err == nil || !strings.Contains(err.Error(), "without . or .. elements") {
			t.Errorf("path %q: error = %v, want it rejected as not clean", p, err)
		}
	}

	_, err := newDaemonConfigTask(Args{"path": "/srv/docker config/daemon.json",
		"settings": map[string]any{"debug": true}})
	if err != nil {
		t.Errorf("clean path with a space: %v", err)
	}
}
