package tasks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

const hardenedDaemonJSON = `{
  "icc": false,
  "live-restore": true,
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"},
  "no-new-privileges": true,
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
  "registry-mirrors": ["https://mirror-a.example.org", "https://mirror-b.example.org"]
}
`

func newAssert(t *testing.T, args tasks.Args) tasks.Task {
	t.Helper()
	kind, ok := tasks.Lookup("assert")
	if !ok {
		t.Fatal("kind assert is not registered")
	}
	if !kind.ReadOnly {
		t.Error("assert is not marked ReadOnly")
	}
	task, err := kind.New(args)
	if err != nil {
		t.Fatalf("New(%v): %v", args, err)
	}
	return task
}

func that(items ...map[string]any) []any {
	out := make([]any, len(items))
	for i, item := range items {
		out[i] = item
	}
	return out
}

func TestAssertFile(t *testing.T) {
	tests := []struct {
		name    string
		that    []any
		status  tasks.Status
		message string
	}{
		{
			name: "all pass",
			that: that(
				map[string]any{"path": "$.log-driver", "equals": "json-file"},
				map[string]any{"path": "$['log-opts']['max-size']", "matches": `^[0-9]+[kmg]$`},
				map[string]any{"path": "$.no-new-privileges", "equals": true},
				map[string]any{"path": "$.default-ulimits.nofile.Hard", "equals": 64000},
				map[string]any{"path": "$.registry-mirrors[*]", "matches": `^https://`},
				map[string]any{"path": "$.registry-mirrors[*]", "count": 2},
				map[string]any{"path": "$.hosts", "exists": false},
				map[string]any{"path": "$.icc", "exists": true},
			),
			status: tasks.StatusOK, message: "8 assertions passed",
		},
		{
			name:    "3 and \"3\" differ",
			that:    that(map[string]any{"path": "$['log-opts']['max-file']", "equals": 3}),
			status:  tasks.StatusFailed,
			message: `1 of 1 assertion failed: $['log-opts']['max-file'] equals 3: found "3"`,
		},
		{
			name: "several failures",
			that: that(
				map[string]any{"path": "$.log-driver", "equals": "journald"},
				map[string]any{"path": "$.hosts", "exists": true},
				map[string]any{"path": "$.registry-mirrors[*]", "matches": `mirror-a`},
				map[string]any{"path": "$.registry-mirrors[*]", "count": 1},
				map[string]any{"path": "$.userns-remap", "equals": "default"},
				map[string]any{"path": "$.icc", "equals": false},
			),
			status: tasks.StatusFailed,
			message: `5 of 6 assertions failed: $.log-driver equals "journald": found "json-file"; ` +
				`$.hosts exists true: found nothing; ` +
				`$.registry-mirrors[*] matches "mirror-a": found ` +
				`["https://mirror-a.example.org", "https://mirror-b.example.org"]; ` +
				`$.registry-mirrors[*] count 1: found 2; ` +
				`$.userns-remap equals "default": not found`,
		},
		{
			name:   "equals a mapping",
			that:   that(map[string]any{"path": "$.log-opts", "equals": map[string]any{"max-size": "10m", "max-file": "3"}}),
			status: tasks.StatusOK, message: "1 assertion passed",
		},
		{
			name:    "matches a mapping",
			that:    that(map[string]any{"path": "$.log-opts", "matches": "."}),
			status:  tasks.StatusFailed,
			message: `1 of 1 assertion failed: $.log-opts matches ".": found {"max-file":"3","max-size":"10m"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			h.SetFile("/etc/docker/daemon.json", hardenedDaemonJSON)
			task := newAssert(t, tasks.Args{"file": "/etc/docker/daemon.json", "that": tt.that})

			out := task.Run(context.Background(), &tasks.Env{Host: h, Check: true})

			if out.Status != tt.status {
				t.Errorf("status = %s, want %s", out.Status, tt.status)
			}
			if out.Message != tt.message {
				t.Errorf("message =\n%s\nwant\n%s", out.Message, tt.message)
			}
		})
	}
}

func TestAssertYAMLFile(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile("/etc/app/config.yml", "server:\n  port: 8443\n  tls: true\nusers: [alice, bob]\n")
	task := newAssert(t, tasks.Args{"file": "/etc/app/config.yml", "that": that(
		map[string]any{"path": "$.server.port", "equals": 8443},
		map[string]any{"path": "$.users[*]", "count": 2},
		map[string]any{"path": "$.users", "equals": []any{"alice", "bob"}},
	)})

	out := task.Run(context.Background(), &tasks.Env{Host: h})

	if out.Status != tasks.StatusOK || out.Message != "3 assertions passed" {
		t.Errorf("outcome = %s %q, want ok \"3 assertions passed\"", out.Status, out.Message)
	}
}

func TestAssertMissingFile(t *testing.T) {
	tests := []struct {
		name   string
		that   []any
		status tasks.Status
		want   string
	}{
		{"only exists false", that(
			map[string]any{"path": "$.hosts", "exists": false},
			map[string]any{"path": "$.tls", "exists": false}),
			tasks.StatusOK, "2 assertions passed"},
		{"other assertions", that(
			map[string]any{"path": "$.hosts", "exists": false},
			map[string]any{"path": "$.icc", "equals": false}),
			tasks.StatusFailed, "read /etc/docker/daemon.json: file not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := newAssert(t, tasks.Args{"file": "/etc/docker/daemon.json", "that": tt.that})

			out := task.Run(context.Background(), &tasks.Env{Host: tasktest.NewHost()})

			if out.Status != tt.status {
				t.Errorf("status = %s, want %s", out.Status, tt.status)
			}
			if out.Message != tt.want {
				t.Errorf("message = %q, want %q", out.Message, tt.want)
			}
		})
	}
}

func TestAssertCommand(t *testing.T) {
	h := tasktest.NewHost()
	h.Reply("docker info", 0, `{"SecurityOptions":["name=apparmor","name=seccomp,profile=builtin"],"LoggingDriver":"json-file"}`)
	h.Reply("false", 1, "")
	task := newAssert(t, tasks.Args{"cmd": "docker info --format '{{json .}}'", "that": that(
		map[string]any{"path": "$.SecurityOptions[*]", "count": 2},
		map[string]any{"path": "$.LoggingDriver", "equals": "json-file"},
	)})

	out := task.Run(context.Background(), &tasks.Env{Host: h, Check: true})

	if out.Status != tasks.StatusOK || out.Message != "2 assertions passed" {
		t.Errorf("outcome = %s %q, want ok in check mode", out.Status, out.Message)
	}
	if len(h.Commands) != 1 {
		t.Errorf("commands = %v, want the one command even in check mode", h.Commands)
	}

	failing := newAssert(t, tasks.Args{"cmd": "false", "that": that(map[string]any{"path": "$.a", "exists": true})})
	out = failing.Run(context.Background(), &tasks.Env{Host: h})
	if out.Status != tasks.StatusFailed || !strings.Contains(out.Message, "run false: exit status 1") {
		t.Errorf("outcome = %s %q, want failed with the exit status", out.Status, out.Message)
	}
}

func TestAssertInvalidDocument(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile("/etc/docker/daemon.json", "{\"icc\": false,}\n")
	task := newAssert(t, tasks.Args{"file": "/etc/docker/daemon.json",
		"that": that(map[string]any{"path": "$.icc", "equals": false})})

	out := task.Run(context.Background(), &tasks.Env{Host: h})

	if out.Status != tasks.StatusFailed {
		t.Fatalf("status = %s, want failed", out.Status)
	}
	if !strings.Contains(out.Message, "parse /etc/docker/daemon.json as JSON: invalid JSON at line 1") {
		t.Errorf("message = %q", out.Message)
	}
}

func TestAssertNewRejects(t *testing.T) {
	kind, _ := tasks.Lookup("assert")
	ok := that(map[string]any{"path": "$.a", "exists": true})
	tests := []struct {
		name string
		args tasks.Args
		want string
	}{
		{"neither file nor cmd", tasks.Args{"that": ok}, "give exactly one of file and cmd"},
		{"file and cmd", tasks.Args{"file": "/a.json", "cmd": "true", "that": ok}, "give exactly one of file and cmd"},
		{"bad format", tasks.Args{"file": "/a", "format": "toml", "that": ok}, `format "toml": use json or yaml`},
		{"no assertions", tasks.Args{"file": "/a.json", "that": []any{}}, "give at least one assertion"},
		{"item not a mapping", tasks.Args{"file": "/a.json", "that": []any{"$.a"}}, "that item 1: must be a mapping"},
		{"missing path", tasks.Args{"file": "/a.json", "that": that(map[string]any{"exists": true})}, "missing path"},
		{"bad path", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$[", "exists": true})}, `invalid path "$["`},
		{"two tests", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$.a", "exists": true, "count": 1})},
			"give exactly one of equals, matches, exists, count, not 2"},
		{"no test", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$.a"})}, "not 0"},
		{"unknown key", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$.a", "equal": 1})}, `unknown key "equal"`},
		{"bad regexp", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$.a", "matches": "("})}, "invalid regular expression"},
		{"exists not bool", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$.a", "exists": "yes"})}, `invalid exists value the string "yes"`},
		{"negative count", tasks.Args{"file": "/a.json", "that": that(map[string]any{"path": "$.a", "count": -1})}, "invalid count value the number -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kind.New(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
