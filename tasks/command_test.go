package tasks

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

func TestCommandNewRejectsInvalidArgs(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"empty cmd", Args{"cmd": "  "}, "empty cmd"},
		{"nul in cmd", Args{"cmd": "echo\x00hi"}, "NUL byte"},
		{"fact with dash", Args{"cmd": "true", "fact": "docker-version"}, "invalid fact name"},
		{"fact with digit first", Args{"cmd": "true", "fact": "1x"}, "invalid fact name"},
		{"empty fact", Args{"cmd": "true", "fact": ""}, "invalid fact name"},
		{"zero stdout_max", Args{"cmd": "true", "stdout_max": 0}, "invalid stdout_max 0"},
		{"huge stdout_max", Args{"cmd": "true", "stdout_max": 1 << 30}, "invalid stdout_max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildSystemTask(t, "command", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCommandRun(t *testing.T) {
	tests := []struct {
		name       string
		args       Args
		check      bool
		result     transport.Result
		wantStatus Status
		wantMsg    string
		wantCmds   int
		wantFacts  map[string]any
	}{
		{
			name: "ok", args: Args{"cmd": "docker version"},
			wantStatus: StatusOK, wantMsg: `ran "docker version"`, wantCmds: 1,
		},
		{
			name: "changed flag", args: Args{"cmd": "docker version", "changed": true},
			wantStatus: StatusChanged, wantMsg: `ran "docker version"`, wantCmds: 1,
		},
		{
			name: "fact recorded", args: Args{"cmd": "docker version", "fact": "docker_version"},
			result:     transport.Result{Stdout: []byte("  24.0.5\n\n")},
			wantStatus: StatusOK, wantMsg: `recorded docker_version="24.0.5"`, wantCmds: 1,
			wantFacts: map[string]any{"docker_version": "24.0.5"},
		},
		{
			name: "fact sanitized", args: Args{"cmd": "docker version", "fact": "v"},
			result:     transport.Result{Stdout: []byte("a\x1b[31mb\r\nc\xff\n")},
			wantStatus: StatusOK, wantMsg: "recorded v=", wantCmds: 1,
			wantFacts: map[string]any{"v": "a\uFFFD[31mb\nc\uFFFD"},
		},
		{
			name: "fact cut at stdout_max", args: Args{"cmd": "x", "fact": "v", "stdout_max": 4},
			result:     transport.Result{Stdout: []byte("abcé")},
			wantStatus: StatusOK, wantMsg: "(output truncated)", wantCmds: 1,
			wantFacts: map[string]any{"v": "abc"},
		},
		{
			name: "transport truncated", args: Args{"cmd": "x", "fact": "v"},
			result:     transport.Result{Stdout: []byte("abc"), Truncated: true},
			wantStatus: StatusOK, wantMsg: "(output truncated)", wantCmds: 1,
			wantFacts: map[string]any{"v": "abc"},
		},
		{
			name: "nonzero exit", args: Args{"cmd": "docker version", "fact": "v"},
			result: transport.Result{ExitCode: 1, Stdout: []byte("out"), Stderr: []byte(
				"one\ntwo\nthree\nCannot connect to the Docker daemon\x1b[0m\n")},
			wantStatus: StatusFailed,
			wantMsg: `run "docker version": exit status 1: two | three | ` +
				"Cannot connect to the Docker daemon\uFFFD[0m",
			wantCmds: 1,
		},
		{
			name: "nonzero exit without stderr", args: Args{"cmd": "false"},
			result:     transport.Result{ExitCode: 3},
			wantStatus: StatusFailed, wantMsg: `run "false": exit status 3`, wantCmds: 1,
		},
		{
			name: "check mode skips", args: Args{"cmd": "systemctl restart docker"},
			check:      true,
			wantStatus: StatusSkipped, wantMsg: "not run in check mode",
		},
		{
			name: "check mode runs when allowed", args: Args{"cmd": "docker version",
				"check_mode": true, "fact": "v"},
			check:      true,
			result:     transport.Result{Stdout: []byte("24.0.5")},
			wantStatus: StatusOK, wantMsg: `recorded v="24.0.5"`, wantCmds: 1,
			wantFacts: map[string]any{"v": "24.0.5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tasktest.NewHost()
			host.Handle("", func(string, []byte) transport.Result { return tt.result })

			task := mustBuildSystemTask(t, "command", tt.args)
			out := task.Run(context.Background(), &Env{Host: host, Check: tt.check,
				Undo: &tasktest.Undo{}})

			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			if len(host.Commands) != tt.wantCmds {
				t.Errorf("ran %d commands, want %d", len(host.Commands), tt.wantCmds)
			}
			if tt.wantCmds > 0 && host.Commands[0] != tt.args["cmd"] {
				t.Errorf("ran %q, want the command exactly as given", host.Commands[0])
			}
			assertFacts(t, out.Facts, tt.wantFacts)
		})
	}
}

func TestCommandMessageIsOneLine(t *testing.T) {
	host := tasktest.NewHost()
	host.Reply("", 0, "")
	cmd := "set -e\n" + strings.Repeat("echo hello world; ", 10)
	task := mustBuildSystemTask(t, "command", Args{"cmd": cmd})

	out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})

	assertOutcome(t, out, StatusOK, `ran "set -e echo hello world;`)
	if !strings.HasSuffix(out.Message, `..."`) {
		t.Errorf("message = %q, want the long command shortened", out.Message)
	}
}

func TestFlushHandlers(t *testing.T) {
	host := tasktest.NewHost()
	task := mustBuildSystemTask(t, "flush_handlers", Args{})

	out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})

	assertOutcome(t, out, StatusOK, "handlers flushed")
	assertStrings(t, "commands", host.Commands, nil)
}

func TestSystemKindsDeclareParams(t *testing.T) {
	for _, name := range []string{"group", "group_members", "service", "apt", "command",
		"flush_handlers"} {
		kind, ok := Lookup(name)
		if !ok {
			t.Errorf("kind %s is not registered", name)
			continue
		}
		if kind.Doc == "" || kind.New == nil {
			t.Errorf("kind %s lacks a doc or a constructor", name)
		}
		for _, p := range kind.Params {
			if p.Doc == "" || p.Type == "" {
				t.Errorf("%s.%s lacks a doc or a type", name, p.Name)
			}
			if p.Required && p.Default != nil {
				t.Errorf("%s.%s is required but has a default", name, p.Name)
			}
		}
	}
}

// assertFacts checks recorded facts exactly.
func assertFacts(t *testing.T, got, want map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("facts = %q, want %q", got, want)
		return
	}
	for name, value := range want {
		if got[name] != value {
			t.Errorf("fact %s = %q, want %q", name, got[name], value)
		}
	}
}
