package tasks

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

const testGroupFile = "root:x:0:\n# comment\n+nis::0:\nadm:x:4:syslog\ndocker:x:998:alice\n"

func TestGroupNewRejectsInvalidArgs(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"name with space", Args{"name": "dock er"}, "invalid group name"},
		{"name with semicolon", Args{"name": "docker;reboot"}, "invalid group name"},
		{"negative gid", Args{"name": "docker", "gid": -1}, "invalid gid -1"},
		{"gid too large", Args{"name": "docker", "gid": 1 << 32}, "invalid gid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildSystemTask(t, "group", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGroupRun(t *testing.T) {
	tests := []struct {
		name       string
		args       Args
		check      bool
		getent     string // stdout of getent group; empty means exit status 2
		groupadd   int    // exit status of groupadd
		wantStatus Status
		wantMsg    string
		wantCmds   []string
		wantUndo   []string
	}{
		{
			name: "exists in file", args: Args{"name": "docker"},
			wantStatus: StatusOK, wantMsg: "group docker exists (gid 998)",
		},
		{
			name: "exists with requested gid", args: Args{"name": "docker", "gid": 998},
			wantStatus: StatusOK, wantMsg: "group docker exists (gid 998)",
		},
		{
			name: "gid mismatch", args: Args{"name": "docker", "gid": 1100},
			wantStatus: StatusFailed, wantMsg: "group docker has gid 998, not 1100",
		},
		{
			name: "exists through nss", args: Args{"name": "ldapgrp"},
			getent:     "ldapgrp:*:5000:bob\n",
			wantStatus: StatusOK, wantMsg: "group ldapgrp exists (gid 5000)",
			wantCmds: []string{"getent group ldapgrp"},
		},
		{
			name: "created", args: Args{"name": "dockerx"},
			wantStatus: StatusChanged, wantMsg: "created group dockerx",
			wantCmds: []string{"getent group dockerx", "groupadd dockerx"},
			wantUndo: []string{"group dockerx"},
		},
		{
			name: "created with gid and system", args: Args{"name": "dockerx", "gid": 1100,
				"system": true},
			wantStatus: StatusChanged, wantMsg: "created group dockerx",
			wantCmds: []string{"getent group dockerx", "groupadd --gid 1100 --system dockerx"},
			wantUndo: []string{"group dockerx"},
		},
		{
			name: "check mode creates nothing", args: Args{"name": "dockerx"}, check: true,
			wantStatus: StatusChanged, wantMsg: "would create group dockerx",
			wantCmds: []string{"getent group dockerx"},
		},
		{
			name: "groupadd fails", args: Args{"name": "dockerx"}, groupadd: 9,
			wantStatus: StatusFailed, wantMsg: "exited with status 9: groupadd: group exists",
			wantCmds: []string{"getent group dockerx", "groupadd dockerx"},
			wantUndo: []string{"group dockerx"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tasktest.NewHost()
			host.SetFile("/etc/group", testGroupFile)
			if tt.getent == "" {
				host.Reply("getent group ", 2, "")
			} else {
				host.Reply("getent group ", 0, tt.getent)
			}
			host.Handle("groupadd", stderrReply(tt.groupadd, "groupadd: group exists"))
			undo := &tasktest.Undo{}

			task := mustBuildSystemTask(t, "group", tt.args)
			out := task.Run(context.Background(), &Env{Host: host, Check: tt.check, Undo: undo})

			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			assertStrings(t, "commands", host.Commands, tt.wantCmds)
			assertStrings(t, "undo records", undo.Records, tt.wantUndo)
		})
	}
}

func TestGroupGetentError(t *testing.T) {
	host := tasktest.NewHost()
	host.Reply("getent group ", 1, "")
	task := mustBuildSystemTask(t, "group", Args{"name": "docker"})

	out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})

	assertOutcome(t, out, StatusFailed, "exit status 1")
}

func TestParseGroupLine(t *testing.T) {
	entry, ok := parseGroupLine("docker:x:998:alice, bob,,")
	if !ok {
		t.Fatal("parseGroupLine rejected a valid line")
	}
	if entry.gid != 998 {
		t.Errorf("gid = %d, want 998", entry.gid)
	}
	assertStrings(t, "members", entry.members, []string{"alice", "bob"})

	for _, line := range []string{"", "#docker:x:1:", "+docker::1:", "docker:x:abc:", "a:b"} {
		if _, ok := parseGroupLine(line); ok {
			t.Errorf("parseGroupLine(%q) accepted an invalid line", line)
		}
	}
}

// stderrReply returns a responder that exits with code and prints msg on stderr when
// code is not 0.
func stderrReply(code int, msg string) tasktest.Responder {
	return func(string, []byte) transport.Result {
		if code == 0 {
			return transport.Result{}
		}
		return transport.Result{ExitCode: code, Stderr: []byte(msg + "\n")}
	}
}

// assertOutcome checks an outcome's status and that its message contains msg.
func assertOutcome(t *testing.T, out Outcome, status Status, msg string) {
	t.Helper()
	if out.Status != status {
		t.Errorf("status = %s (%s), want %s", out.Status, out.Message, status)
	}
	if !strings.Contains(out.Message, msg) {
		t.Errorf("message = %q, want it to contain %q", out.Message, msg)
	}
	if strings.Contains(out.Message, "\n") {
		t.Errorf("message %q has more than one line", out.Message)
	}
	if status == StatusFailed && out.Err == nil {
		t.Errorf("failed outcome has no Err")
	}
}

// assertStrings checks a list of strings exactly, treating nil and empty as equal.
func assertStrings(t *testing.T, label string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", label, got, want)
	}
}
