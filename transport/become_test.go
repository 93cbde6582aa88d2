package transport

import (
	"context"
	"strings"
	"testing"
)

func TestBecomeWithoutPassword(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)
	commands := f.srv.Commands()
	if len(commands) != 1 || !strings.HasPrefix(commands[0], "sudo -n -- sh -c ") {
		t.Fatalf("Dial ran %q, want the root shell started through sudo -n", commands)
	}

	res := run(t, c, "printf '%s' \"it's\"; id -u >/dev/null", nil)

	if got := string(res.Stdout); got != "it's" {
		t.Errorf("stdout = %q, want %q", got, "it's")
	}
	if n := len(f.srv.Commands()); n != 1 {
		t.Errorf("the command opened a session of its own: %q", f.srv.Commands())
	}
}

func TestBecomePasswordOnStdinOnly(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw-secret")
	f.cfg.BecomePassword = []byte("pw-secret")
	c := f.dial(t)

	res := run(t, c, "cat", []byte("data"))

	if got := string(res.Stdout); got != "data" {
		t.Errorf("cat returned %q, want %q without the password line", got, "data")
	}
	for _, cmd := range f.srv.Commands() {
		if strings.Contains(cmd, "pw-secret") {
			t.Errorf("command line contains the password: %q", cmd)
		}
	}
	if log := readLocal(t, f.fakeSudoLog); strings.Contains(log, "pw-secret") {
		t.Errorf("sudo arguments contain the password:\n%s", log)
	}
}

func TestBecomePasswordNotNeeded(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	f.cfg.BecomePassword = []byte("unused")
	c := f.dial(t)

	res := run(t, c, "cat", []byte("data"))

	if got := string(res.Stdout); got != "data" {
		t.Errorf("cat returned %q, want %q", got, "data")
	}
	commands := f.srv.Commands()
	if got := commands[len(commands)-1]; !strings.HasPrefix(got, "sudo -n -- ") {
		t.Errorf("command line = %q, want the sudo -n form", got)
	}
}

func TestBecomeMissingPassword(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw-secret")

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrBecome)
	wantContains(t, err, "test-host", "tester", "a password is required",
		"--ask-become-pass", "--become-pass-file")
}

func TestBecomeWrongPassword(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw-secret")
	f.cfg.BecomePassword = []byte("pw-wrong")

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrBecome)
	wantContains(t, err, "sudo: incorrect password")
	if strings.Contains(err.Error(), "pw-wrong") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestBecomeSFTPWithPassword(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw-secret")
	f.cfg.BecomePassword = []byte("pw-secret")
	c := f.dial(t)
	path := t.TempDir() + "/file"

	if err := c.WriteFile(context.Background(), path, []byte("x"), testMeta(0o600)); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}

	commands := f.srv.Commands()
	last := commands[len(commands)-1]
	if !strings.HasPrefix(last, "sudo -k -S -p '' -- ") || !strings.HasSuffix(last, "sftp-server'") {
		t.Errorf("sftp command line = %q, want sftp-server through sudo -S", last)
	}
}

func TestRemoteMessage(t *testing.T) {
	stderr := []byte("Sorry, try again.\n\n  sudo: hunter2 rejected\n")

	got := remoteMessage(stderr, []byte("hunter2"))

	want := "Sorry, try again.; sudo: ******** rejected"
	if got != want {
		t.Errorf("remoteMessage = %q, want %q", got, want)
	}
}
