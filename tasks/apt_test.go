package tasks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

func TestAptNewRejectsInvalidArgs(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"nothing to do", Args{}, "apt task does nothing"},
		{"uppercase package", Args{"upgrade": []string{"Docker.io"}}, "invalid package name"},
		{"option as package", Args{"upgrade": []string{"-oAPT::X=1"}}, "invalid package name"},
		{"shell in package", Args{"upgrade": []string{"docker.io;reboot"}},
			"invalid package name"},
		{"one letter package", Args{"upgrade": []string{"a"}}, "invalid package name"},
		{"cache time without update", Args{"upgrade": []string{"docker.io"},
			"cache_valid_time": time.Hour}, "has no effect without update_cache"},
		{"negative cache time", Args{"update_cache": true, "cache_valid_time": -time.Second},
			"invalid cache_valid_time"},
		{"negative lock timeout", Args{"update_cache": true, "lock_timeout": -time.Second},
			"invalid lock_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildSystemTask(t, "apt", tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAptRun(t *testing.T) {
	tests := []struct {
		name       string
		args       Args
		check      bool
		files      map[string]string // state files of the fake apt tools
		freshLists bool
		wantStatus Status
		wantMsg    string
	}{
		{
			name: "update", args: Args{"update_cache": true},
			wantStatus: StatusOK, wantMsg: "package lists updated",
		},
		{
			name: "fresh lists", args: Args{"update_cache": true, "cache_valid_time": time.Hour},
			freshLists: true,
			wantStatus: StatusOK, wantMsg: "old, within cache_valid_time 1h0m0s",
		},
		{
			name: "hidden fetch failure", args: Args{"update_cache": true},
			files: map[string]string{"update-output": "Hit:1 http://deb.debian.org bookworm\n" +
				"W: Failed to fetch http://example.invalid/debian/InRelease  Could not resolve\n" +
				"W: Some index files failed to download. They have been ignored.\n"},
			wantStatus: StatusFailed,
			wantMsg: "apt-get update failed (exit status 0): W: Failed to fetch " +
				"http://example.invalid/debian/InRelease",
		},
		{
			name: "update exit status", args: Args{"update_cache": true},
			files: map[string]string{"update-status": "100",
				"update-output": "E: The repository is not signed.\n"},
			wantStatus: StatusFailed,
			wantMsg:    "apt-get update failed (exit status 100): E: The repository is not signed.",
		},
		{
			name:       "upgrade changes version",
			args:       Args{"update_cache": true, "upgrade": []string{"docker.io", "runc", "nosuch"}},
			files:      map[string]string{"status": fakeStatusOld, "status-after": fakeStatusNew},
			wantStatus: StatusChanged,
			wantMsg: "package lists updated; upgraded docker.io 20.10.24+dfsg1-1 -> " +
				"20.10.24+dfsg1-1+deb12u1; runc, nosuch not installed, left alone",
		},
		{
			name: "upgrade at newest version", args: Args{"upgrade": []string{"docker.io",
				"containerd"}},
			files:      map[string]string{"status": fakeStatusOld},
			wantStatus: StatusOK,
			wantMsg: "already at the newest version: docker.io 20.10.24+dfsg1-1, " +
				"containerd 1.6.20~ds1-1",
		},
		{
			name: "nothing installed", args: Args{"upgrade": []string{"runc"}},
			files:      map[string]string{"status": fakeStatusOld},
			wantStatus: StatusOK,
			wantMsg:    "no listed package is installed; runc not installed, left alone",
		},
		{
			name: "upgrade fails", args: Args{"upgrade": []string{"docker.io"}},
			files:      map[string]string{"status": fakeStatusOld, "install-status": "100"},
			wantStatus: StatusFailed,
			wantMsg: "apt-get install --only-upgrade docker.io failed (exit status 100): " +
				"E: Held packages were changed",
		},
		{
			name: "check mode", args: Args{"update_cache": true, "upgrade": []string{"docker.io"}},
			check: true,
			files: map[string]string{"status": fakeStatusOld, "status-after": fakeStatusNew,
				"simulate-output": fakeSimulateOutput},
			wantStatus: StatusChanged,
			wantMsg: "package lists not updated in check mode; would upgrade libfoo1 " +
				"(not installed) -> 1.0-1, docker.io 20.10.24+dfsg1-1 -> 20.10.24+dfsg1-1+deb12u1",
		},
		{
			name: "check mode at newest version", args: Args{"upgrade": []string{"docker.io"}},
			check:      true,
			files:      map[string]string{"status": fakeStatusOld},
			wantStatus: StatusOK,
			wantMsg:    "already at the newest version: docker.io 20.10.24+dfsg1-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeApt(t)
			for name, content := range tt.files {
				f.set(t, name, content)
			}
			if tt.freshLists {
				mustMkdir(t, f.lists)
			}
			host := f.host(t)

			task := mustBuildSystemTask(t, "apt", tt.args)
			out := task.Run(context.Background(), &Env{Host: host, Check: tt.check,
				Undo: &tasktest.Undo{}})

			assertOutcome(t, out, tt.wantStatus, tt.wantMsg)
			if len(host.Commands) != 1 {
				t.Errorf("ran %d commands, want 1", len(host.Commands))
			}
		})
	}
}

func TestAptCheckModeChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "status", fakeStatusOld)
	f.set(t, "status-after", fakeStatusNew)
	host := f.host(t)
	task := mustBuildSystemTask(t, "apt", Args{"update_cache": true,
		"upgrade": []string{"docker.io"}})

	task.Run(context.Background(), &Env{Host: host, Check: true, Undo: &tasktest.Undo{}})

	if !strings.Contains(host.Commands[0], "\ncheck=1\n") {
		t.Errorf("check mode did not pass check=1 to the script")
	}
	for _, call := range f.aptCalls(t) {
		if !strings.HasPrefix(call, "apt-get -s ") {
			t.Errorf("check mode ran %q", call)
		}
	}
}

func TestAptSecondUpdateReportsOK(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	host := f.host(t)
	task := mustBuildSystemTask(t, "apt", Args{"update_cache": true})

	for run := 1; run <= 2; run++ {
		out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})
		assertOutcome(t, out, StatusOK, "package lists updated")
	}
}

func TestAptLockTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeApt(t)
	f.set(t, "lock-forever", "")
	host := f.host(t)
	task := mustBuildSystemTask(t, "apt", Args{"update_cache": true,
		"lock_timeout": time.Second})

	out := task.Run(context.Background(), &Env{Host: host, Undo: &tasktest.Undo{}})

	assertOutcome(t, out, StatusFailed, "apt-get update: /var/lib/apt/lists/lock is still "+
		"held by process 4242 (apt-get) after waiting 1s: another package manager is running")
}

func TestLockTimeoutErrorNamesLock(t *testing.T) {
	tests := []struct {
		output string
		want   string
	}{
		{"E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 77 (dpkg)",
			"/var/lib/dpkg/lock-frontend is still held by process 77 (dpkg) after"},
		{"E: Could not get lock /var/lib/dpkg/lock - open (11: Resource temporarily " +
			"unavailable)\nE: Unable to lock the administration directory (/var/lib/dpkg/), " +
			"is another process using it?",
			"/var/lib/dpkg/lock is still held after"},
		{"E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is " +
			"another process using it?", "/var/lib/dpkg/lock-frontend is still held after"},
		{"E: something else", "a package lock is still held after"},
	}
	for _, tt := range tests {
		report := remoteReport{sections: map[string]string{"output": tt.output}}
		err := lockTimeoutError("apt-get update", time.Minute, report)
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error = %q, want it to contain %q", err, tt.want)
		}
	}
}

func TestParseDpkgVersions(t *testing.T) {
	v := parseDpkgVersions("ii  libc6:amd64 2.36-9\nii  libc6:i386 2.36-9\n" +
		"un  runc <none>\nrc  old 1.0\nhi  held 2.0\n")

	assertStrings(t, "packages", v.packages, []string{"libc6:amd64", "libc6:i386", "held"})
	assertStrings(t, "names", v.names(), []string{"libc6", "held"})
	if got := v.version["held"]; got != "2.0" {
		t.Errorf("version of held = %q, want 2.0", got)
	}
}
