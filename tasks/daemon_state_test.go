package tasks_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

// staleDaemon is the report of a host whose dockerd started at 4910 s after the epoch,
// before daemon.json last changed at 4950.25 s.
// Its ticks are in the kernel's fixed 100 a second.
const staleDaemon = "dockerd=/usr/sbin/dockerd\ndockerd_running=yes\n" +
	"dockerd_start_ticks=1000\nuptime=100.00\nnow=5000.000000000\n" +
	"file_changed=1970-01-01 01:22:30.25 +0000\ndir=/etc/docker\n"

// stoppedDaemon is the report of a host with dockerd installed but not running.
const stoppedDaemon = "dockerd=/usr/sbin/dockerd\n" +
	"file_changed=1970-01-01 01:22:30.25 +0000\ndir=/etc/docker\n"

// nnpSettings are the settings of the tests below, and nnpFile a file that holds them.
var nnpSettings = settingsArgs(map[string]any{"no-new-privileges": true})

const nnpFile = "{\n  \"no-new-privileges\": true\n}\n"

func TestDaemonConfigRestartNeeded(t *testing.T) {
	tests := []struct {
		name    string
		fields  string
		check   bool
		status  tasks.Status
		message string
	}{
		{"file changed after start", staleDaemon, false, tasks.StatusChanged,
			"already set in /etc/docker/daemon.json, but the running daemon started before " +
				"the file changed: restart needed"},
		{"check mode", staleDaemon, true, tasks.StatusChanged,
			"already set in /etc/docker/daemon.json, but the running daemon started before " +
				"the file changed: restart needed"},
		{"daemon stopped", stoppedDaemon, false, tasks.StatusOK, "already set"},
		{"daemon started after the change", runningDaemon, false, tasks.StatusOK, "already set"},
		{"start time unknown", "dockerd=/usr/sbin/dockerd\ndockerd_running=yes\n" +
			"file_changed=1970-01-01 01:22:30.25 +0000\n", false, tasks.StatusOK, "already set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			h.SetFile(daemonJSON, nnpFile)
			replyState(h, debianUnit, tt.fields)

			out, undo := runTask(newDaemonConfig(t, nnpSettings), h, tt.check)

			if out.Status != tt.status || out.Message != tt.message {
				t.Errorf("outcome = %s %q, want %s %q", out.Status, out.Message, tt.status,
					tt.message)
			}
			if len(h.Writes) != 0 {
				t.Errorf("wrote %v, want the file left alone", h.Writes)
			}
			if len(undo.Records) != 0 {
				t.Errorf("undo records = %v, want none", undo.Records)
			}
		})
	}
}

func TestDaemonConfigStartsStoppedUnit(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile(daemonJSON, nnpFile)
	replyState(h, "LoadState=loaded\n"+debianUnit, stoppedDaemon)

	out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

	want := "already set in /etc/docker/daemon.json, but docker.service is not running: " +
		"restart needed"
	if out.Status != tasks.StatusChanged || out.Message != want {
		t.Errorf("outcome = %s %q, want changed %q, so the restart handler starts Docker",
			out.Status, out.Message, want)
	}
	if len(h.Writes) != 0 {
		t.Errorf("wrote %v, want the file left alone", h.Writes)
	}
}

func TestDaemonConfigRestartOnlyForDaemonFile(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile("/srv/other.json", nnpFile)
	replyState(h, debianUnit, staleDaemon)
	args := tasks.Args{"path": "/srv/other.json", "settings": map[string]any{"no-new-privileges": true}}

	out, _ := runTask(newDaemonConfig(t, args), h, false)

	if out.Status != tasks.StatusOK {
		t.Errorf("outcome = %s %q, want ok: dockerd does not read /srv/other.json",
			out.Status, out.Message)
	}
}

func TestDaemonConfigRefusesSymlink(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile(daemonJSON, "{}")
	replyState(h, debianUnit, runningDaemon+"file=symlink\n"+
		"--- fleetharden link\n/srv/docker/daemon.json\n")

	out, undo := runTask(newDaemonConfig(t, nnpSettings), h, false)

	if out.Status != tasks.StatusFailed {
		t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
	}
	want := "/etc/docker/daemon.json is a symbolic link to /srv/docker/daemon.json, and the " +
		"task does not write through links: point path at the target instead (the file " +
		"was left unchanged)"
	if out.Message != want {
		t.Errorf("message = %q, want %q", out.Message, want)
	}
	if len(h.Writes) != 0 || len(undo.Records) != 0 {
		t.Errorf("writes %v, undo records %v, want none", h.Writes, undo.Records)
	}
}

func TestDaemonConfigRefusesDirectory(t *testing.T) {
	h := tasktest.NewHost()
	replyState(h, debianUnit, runningDaemon+"file=directory\n")

	out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

	want := "/etc/docker/daemon.json is a directory: remove it or set path to a file"
	if out.Status != tasks.StatusFailed || out.Message != want {
		t.Errorf("outcome = %s %q, want failed %q", out.Status, out.Message, want)
	}
}

func TestDaemonConfigWithoutDocker(t *testing.T) {
	const notFound = "LoadState=not-found\nMainPID=0\n--fleetharden-section--\n"
	tests := []struct {
		name, unit, fields string
		status             tasks.Status
	}{
		{"no unit, no dockerd", notFound, "dockerd=\ndir=/etc\n", tasks.StatusFailed},
		{"dockerd without a unit", notFound, "dockerd=/usr/bin/dockerd\ndir=/etc\n",
			tasks.StatusChanged},
		{"init script without dockerd on PATH", "--fleetharden-section--\n",
			"init_script=yes\ndockerd=\ndir=/etc\n", tasks.StatusChanged},
		{"unit without its program", "LoadState=loaded\n" + debianUnit,
			"dockerd=\nexec_missing=/usr/sbin/dockerd\ndir=/etc\n", tasks.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			replyState(h, tt.unit, tt.fields)

			out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

			if out.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", out.Status, out.Message, tt.status)
			}
			if tt.status != tasks.StatusFailed {
				return
			}
			if !strings.HasSuffix(out.Message, ": install Docker Engine first") {
				t.Errorf("message = %q, want it to end with %q", out.Message,
					": install Docker Engine first")
			}
			if len(h.Writes) != 0 {
				t.Errorf("wrote %v on a host without Docker", h.Writes)
			}
		})
	}
}

func TestDaemonConfigMissingDockerMessages(t *testing.T) {
	tests := []struct {
		unit, fields, want string
	}{
		{"LoadState=not-found\n--fleetharden-section--\n", "dockerd=\n",
			"docker.service not found and no dockerd binary found: install Docker Engine first"},
		{"LoadState=loaded\n" + debianUnit, "dockerd=\nexec_missing=/usr/sbin/dockerd\n",
			"docker.service runs /usr/sbin/dockerd, which does not exist: install Docker " +
				"Engine first"},
	}
	for _, tt := range tests {
		h := tasktest.NewHost()
		replyState(h, tt.unit, tt.fields)

		out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

		if out.Message != tt.want {
			t.Errorf("message = %q, want %q", out.Message, tt.want)
		}
	}
}

func TestDaemonConfigReadOnlyDirectory(t *testing.T) {
	readOnly := runningDaemon + "dir_read_only=yes\n"
	tests := []struct {
		name     string
		existing string
		check    bool
		status   tasks.Status
	}{
		{"write needed", "", false, tasks.StatusFailed},
		{"write needed in check mode", "", true, tasks.StatusFailed},
		{"nothing to write", nnpFile, false, tasks.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			if tt.existing != "" {
				h.SetFile(daemonJSON, tt.existing)
			}
			replyState(h, debianUnit, readOnly)

			out, _ := runTask(newDaemonConfig(t, nnpSettings), h, tt.check)

			if out.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", out.Status, out.Message, tt.status)
			}
			want := "write /etc/docker/daemon.json: /etc/docker is on a read-only file system"
			if tt.status == tasks.StatusFailed && !strings.HasPrefix(out.Message, want) {
				t.Errorf("message = %q, want it to start with %q", out.Message, want)
			}
			if len(h.Writes) != 0 {
				t.Errorf("wrote %v", h.Writes)
			}
		})
	}
}

func TestDaemonConfigValidatesWithDockerd(t *testing.T) {
	rejected := "tmp=/tmp/tmp.x1\nunable to configure the Docker daemon with file " +
		"/tmp/tmp.x1/daemon.json: invalid max-concurrent-downloads\n"
	tests := []struct {
		name    string
		result  transport.Result
		check   bool
		status  tasks.Status
		message string
	}{
		{"accepted", transport.Result{Stdout: []byte("tmp=/tmp/tmp.x1\nconfiguration OK\n")},
			false, tasks.StatusChanged, "no-new-privileges set"},
		{"rejected", transport.Result{ExitCode: 1, Stdout: []byte(rejected)}, false,
			tasks.StatusFailed, "dockerd --validate rejected the new /etc/docker/daemon.json: " +
				"unable to configure the Docker daemon with file /etc/docker/daemon.json: " +
				"invalid max-concurrent-downloads (the file was left unchanged)"},
		{"rejected in check mode", transport.Result{ExitCode: 1, Stdout: []byte(rejected)},
			true, tasks.StatusFailed, "dockerd --validate rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			replyState(h, debianUnit, runningDaemon+"validate=yes\n")
			var validated []byte
			h.Handle("dockerd=/usr/sbin/dockerd\n", func(_ string, stdin []byte) transport.Result {
				validated = stdin
				return tt.result
			})

			out, _ := runTask(newDaemonConfig(t, nnpSettings), h, tt.check)

			if out.Status != tt.status || !strings.HasPrefix(out.Message, tt.message) {
				t.Errorf("outcome = %s %q, want %s %q", out.Status, out.Message, tt.status,
					tt.message)
			}
			if string(validated) != nnpFile {
				t.Errorf("dockerd --validate read %q, want the new file %q", validated, nnpFile)
			}
			wantWrites := 0
			if tt.status == tasks.StatusChanged && !tt.check {
				wantWrites = 1
			}
			if len(h.Writes) != wantWrites {
				t.Errorf("writes = %v, want %d", h.Writes, wantWrites)
			}
		})
	}
}

func TestDaemonConfigValidatesOnlyWhenWriting(t *testing.T) {
	h := daemonHost(nnpFile, debianUnit)

	out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

	if out.Status != tasks.StatusOK {
		t.Fatalf("status = %s (%s), want ok", out.Status, out.Message)
	}
	for _, cmd := range h.Commands {
		if strings.Contains(cmd, "--validate") {
			t.Errorf("probed dockerd for --validate although nothing is written: %q", cmd)
		}
	}
}

func TestVerifyContainersStaleDaemonNNP(t *testing.T) {
	apparmor := readFixture(t, "docker_info_apparmor.json")
	hardened := readFixture(t, "docker_inspect_hardened.json")
	const marker = "--fleetharden-section--\n"
	tests := []struct {
		name    string
		times   string
		status  tasks.Status
		message string
	}{
		{"daemon started after the change", "file_changed=1970-01-01 00:16:40.5 +0000\n" +
			"dockerd_start_ticks=1000\nclock_ticks=100\nuptime=100.00\nnow=5000.0\n",
			tasks.StatusOK, "2 containers checked, all passed"},
		{"daemon started before the change", "file_changed=1970-01-01 01:22:30.25 +0000\n" +
			"dockerd_start_ticks=1000\nclock_ticks=100\nuptime=100.00\nnow=5000.0\n",
			tasks.StatusFailed, "(no no-new-privileges unless dockerd applies it: daemon.json sets it, but dockerd started before the file last changed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			h.Reply("# fleetharden: read the state of the Docker daemon", 0, apparmor+marker+
				`{"no-new-privileges": true}`+"\n"+marker+"/usr/sbin/dockerd\n-H\nfd://\n"+
				marker+tt.times)
			h.Reply("# fleetharden: inspect the running containers", 0, hardened)
			task := newVerify(t, tasks.Args{"allowed_capabilities": []string{"NET_BIND_SERVICE"}})

			out := task.Run(context.Background(), &tasks.Env{Host: h})

			if out.Status != tt.status || !strings.Contains(out.Message, tt.message) {
				t.Errorf("outcome = %s %q, want %s containing %q", out.Status, out.Message,
					tt.status, tt.message)
			}
		})
	}
}

func TestDaemonConfigTruncatedStateFails(t *testing.T) {
	h := tasktest.NewHost()
	h.Handle(stateCommand, func(string, []byte) transport.Result {
		out := debianUnit + "--fleetharden-section--\nfile=missing\ndir=/etc/docker\n"
		return transport.Result{Stdout: []byte(out), Truncated: true}
	})

	out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

	if out.Status != tasks.StatusFailed || !strings.Contains(out.Message, "cut at its size limit") {
		t.Errorf("outcome = %s %q, want a failure about the cut report", out.Status, out.Message)
	}
	if _, written := h.File(daemonJSON); written {
		t.Error("daemon.json written from a cut report")
	}
}

func TestDaemonConfigRestartValidatesFile(t *testing.T) {
	rejected := "tmp=/tmp/tmp.x1\nunable to configure the Docker daemon with file " +
		"/tmp/tmp.x1/daemon.json: opening seccomp profile (unconfined) failed\n"
	h := tasktest.NewHost()
	h.SetFile(daemonJSON, nnpFile)
	replyState(h, debianUnit, staleDaemon)
	h.Handle("dockerd=/usr/sbin/dockerd\n", func(string, []byte) transport.Result {
		return transport.Result{ExitCode: 1, Stdout: []byte(rejected)}
	})

	out, _ := runTask(newDaemonConfig(t, nnpSettings), h, false)

	want := "dockerd --validate rejected /etc/docker/daemon.json: unable to configure " +
		"the Docker daemon with file /etc/docker/daemon.json: opening seccomp profile " +
		"(unconfined) failed (the file was left unchanged), and Docker was not restarted"
	if out.Status != tasks.StatusFailed || out.Message != want {
		t.Errorf("outcome = %s %q, want failed %q", out.Status, out.Message, want)
	}
}
