package tasks_test

import (
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
)

func TestCheckPath(t *testing.T) {
	tests := []struct {
		path string
		want string // part of the error, or "" for a valid path
	}{
		{"/etc/docker/daemon.json", ""},
		{"/srv/docker config/daemon.json", ""},
		{"/", ""},
		{"daemon.json", "use an absolute path"},
		{"", "use an absolute path"},
		{"/etc/docker/\ndaemon.json", "control character"},
		{"/etc/docker/daemon.json\x00", "control character"},
		{"/etc/docker/\tdaemon.json", "control character"},
		{"/etc/docker/\x1b[2Jdaemon.json", "control character"},
		{"/etc/docker/\u0085daemon.json", "control character"},
		{"/etc/docker/../shadow", "without . or .. elements"},
		{"/etc/docker/./daemon.json", "without . or .. elements"},
		{"/etc//docker/daemon.json", "such as /etc/docker/daemon.json"},
		{"/etc/docker/", "trailing slash"},
	}
	for _, tt := range tests {
		err := tasks.CheckPath("path", tt.path)
		if tt.want == "" {
			if err != nil {
				t.Errorf("CheckPath(%q) = %v, want nil", tt.path, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckPath(%q) = nil, want an error containing %q", tt.path, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckPath(%q) = %q, want it to contain %q", tt.path, err, tt.want)
		}
	}
}

func TestKindsRejectBadPaths(t *testing.T) {
	that := []any{map[string]any{"path": "$.debug", "exists": true}}
	for _, bad := range []string{"/etc/docker/\ndaemon.json", "/etc/docker/daemon\x00.json"} {
		tests := []struct {
			kind string
			args tasks.Args
		}{
			{"docker_daemon_config", tasks.Args{"path": bad, "settings": map[string]any{"debug": true}}},
			{"assert", tasks.Args{"file": bad, "that": that}},
		}
		for _, tt := range tests {
			kind, _ := tasks.Lookup(tt.kind)
			_, err := kind.New(tt.args)
			if err == nil || !strings.Contains(err.Error(), "control character") {
				t.Errorf("%s with path %q: error = %v, want a control character error",
					tt.kind, bad, err)
			}
		}
	}
}
