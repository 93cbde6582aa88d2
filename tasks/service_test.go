package tasks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

func TestServiceNewRejectsInvalidArgs(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"space in name", Args{"name": "docker service"}, "invalid service name"},
		{"option as name", Args{"name": "--all"}, "invalid service name"},
		{"path in name", Args{"name": "../docker"}, "invalid service name"},
		{"shell in name", Args{"name": "docker;reboot"}, "invalid service name"},
		{"unknown state", Args{"name": "docker", "state": "stopped"}, "invalid state"},
		{"zero timeout", Args{"name": "docker", "timeout": time.Duration(0)},
			"invalid timeout"},
		{"empty health_cmd", Args{"name": "docker", "health_cmd": " "}, "empty health_cmd"},
		{"nul in health_cmd", Args{"name": "docker", "health_cmd": "true\x00"}, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildSystemTask(t, "service", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestServiceDefaultHealthCmd(t *testing.T) {
	tests := []struct {
		args Args
		want string
	}{
		{Args{"name": "docker"}, dockerHealthCmd},
		{Args{"name": "docker.service"}, dockerHealthCmd},
		{Args{"name": "docker", "health_cmd": "true"}, "true"},
		{Args{"name": "containerd"}, ""},
		{Args{"name": "getty@tty1.service"}, ""},
	}
	for _, tt := range tests {
		task := mustBuildSystemTask(t, "service", tt.args).(*serviceTask)
		if task.healthCmd != tt.want {
			t.Errorf("%v: health command = %q, want %q", tt.args, task.healthCmd, tt.want)
		}
	}
}

func TestServiceRun(t *testing.T) {
	tests := []struct {
		name       string
		args       Args
		check      bool
		active     bool
		healthy    bool
		failAction bool
		wantStatus Status
		wantMsg    string
		wantCmds   int
		wantUndo   []string
		wantCalls  []string // first calls of the fake init tools
	}{
		{
			name: "restart healthy", args: Args{"name": "docker", "health_cmd": "fake-health"},
			active: true, healthy: true,
			wantStatus: StatusChanged, wantMsg: "restarted docker, healthy after 0.",
			wantCmds: 1, wantUndo: []string{"service docker"},
			wantCalls: []string{"systemctl reset-failed docker", "systemctl restart docker"},
		},
		{
			name: "reload healthy", args: Args{"name": "docker", "state": "reloaded",
				"health_cmd": "fake-health"},
			active: true, healthy: true,
			wantStatus: StatusChanged, wantMsg: "reloaded docker, healthy after",
			wantCmds: 1, wantUndo: []string{"service docker"},
			wantCalls: []string{"systemctl reload docker"},
		},
		{
			name: "restart unhealthy", args: Args{"name": "docker", "health_cmd": "fake-health",
				"timeout": time.Second},
			wantStatus: StatusFailed,
			wantMsg: "restarted docker, but it was not healthy within 1s: health command " +
				"exited with status 1: Cannot connect to the Docker daemon",
			wantCmds: 1, wantUndo: []string{"service docker"},
		},
		{
			name: "restart fails", args: Args{"name": "docker"}, failAction: true,
			wantStatus: StatusFailed,
			wantMsg:    "restart service docker: exit status 1: Job for docker.service failed",
			wantCmds:   1, wantUndo: []string{"service docker"},
		},
		{
			name: "check mode restarts nothing", args: Args{"name": "docker"}, check: true,
			wantStatus: StatusChanged, wantMsg: "would restart docker",
		},
		{
			name: "start when active", args: Args{"name": "docker", "state": "started"},
			active:     true,
			wantStatus: StatusOK, wantMsg: "docker is already active",
			wantCmds: 1, wantCalls: []string{"systemctl is-active -q docker"},
		},
		{
			name: "start when inactive", args: Args{"name": "docker", "state": "started",
				"health_cmd": "fake-health"},
			healthy:    true,
			wantStatus: StatusChanged, wantMsg: "started docker, healthy after",
			wantCmds: 2, wantUndo: []string{"service docker"},
			wantCalls: []string{"systemctl is-active -q docker", "systemctl reset-failed docker",
				"systemctl start docker"},
		},
		{
			name: "check mode start when inactive", args: Args{"name": "docker",
				"state": "started"}, check: true,
			wantStatus: StatusChanged, wantMsg: "would start docker",
			wantCmds: 1, wantCalls: []string{"systemctl is-active -q docker"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeInit(t, true)
			if tt.active {
				f.set(t, "active", "")
			}
			if tt.healthy {
				f.set(t, "healthy-after", "1")
			}
			if tt.failAction {
				f.set(t, "fail-action", "")
			}
			host := f.host(t)
			undo := &tasktest.Undo{}

			task := mustBuildSystemTask(t, "service", tt.args)
			out := task.Run(context.Background(), &Env{Host: host, Check: tt.check, Undo: undo})

			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			if len(host.Commands) != tt.wantCmds {
				t.Errorf("ran %d commands, want %d", len(host.Commands), tt.wantCmds)
			}
			assertStrings(t, "undo records", undo.Records, tt.wantUndo)
			calls := f.calls(t)
			if len(calls) > len(tt.wantCalls) {
				calls = calls[:len(tt.wantCalls)]
			}
			assertStrings(t, "init calls", calls, tt.wantCalls)
		})
	}
}

func TestServiceFailureCarriesLog(t *testing.T) {
	t.Parallel()
	f := newFakeInit(t, true)
	f.set(t, "stay-inactive", "")
	host := f.host(t)
	task := mustBuildSystemTask(t, "service", Args{"name": "docker",
		"timeout": 500 * time.Millisecond})

	out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})

	assertOutcome(t, out, StatusFailed,
		"restarted docker, but it was not healthy within 500ms: docker is not active")
	wantLast := `last log line: level=error msg="failed to start daemon: invalid daemon.json"`
	if !strings.Contains(out.Message, wantLast) {
		t.Errorf("message = %q, want it to end with the last log line", out.Message)
	}
	if !strings.HasPrefix(out.Diff, "recent log lines of docker:\n") {
		t.Errorf("diff = %q, want the recent log lines", out.Diff)
	}
	if !strings.Contains(out.Diff, "journalctl -u docker -n 20") {
		t.Errorf("diff = %q, want journalctl's output", out.Diff)
	}
}

func TestServiceScriptErrors(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		stdout  string
		wantMsg string
	}{
		{"script exit status", 2, "", "script exited with status 2"},
		{"no result", 0, "init=systemd\n", "script printed no result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tasktest.NewHost()
			host.Reply("export LC_ALL=C", tt.code, tt.stdout)
			task := mustBuildSystemTask(t, "service", Args{"name": "docker"})

			out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})

			assertOutcome(t, out, StatusFailed, tt.wantMsg)
		})
	}
}

func TestServiceProbeError(t *testing.T) {
	host := tasktest.NewHost()
	host.Reply("export LC_ALL=C", 0, "init=systemd\n")
	undo := &tasktest.Undo{}
	task := mustBuildSystemTask(t, "service", Args{"name": "docker", "state": "started"})

	out := task.Run(context.Background(), &Env{Host: host, Undo: undo})

	assertOutcome(t, out, StatusFailed, "check whether service docker is active")
	assertStrings(t, "undo records", undo.Records, nil)
}

func TestLastServiceLine(t *testing.T) {
	log := "Starting docker.service - Docker Application Container Engine...\n" +
		`time="2026-12-04T10:00:00Z" level=info msg="Starting up"` + "\n" +
		"failed to start daemon: invalid log-opts: unknown log opt 'x'\n" +
		"docker.service: Main process exited, code=exited, status=1/FAILURE\n" +
		"docker.service: Failed with result 'exit-code'.\n" +
		"Failed to start docker.service - Docker Application Container Engine."

	got := lastServiceLine(log, "docker.service")

	if want := "failed to start daemon: invalid log-opts: unknown log opt 'x'"; got != want {
		t.Errorf("lastServiceLine = %q, want %q", got, want)
	}
	if got := lastServiceLine("Stopped docker.service.", "docker.service"); got != "Stopped docker.service." {
		t.Errorf("lastServiceLine of systemd lines only = %q, want the last line", got)
	}
}
