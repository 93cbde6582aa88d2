package transport

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestShellRunsEveryCommandOnOneSession(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw-secret")
	f.cfg.BecomePassword = []byte("pw-secret")
	c := f.dial(t)

	cases := []struct {
		cmd            string
		stdout, stderr string
		code           int
	}{
		{cmd: "echo out; echo err >&2; exit 3", stdout: "out\n", stderr: "err\n", code: 3},
		{cmd: "printf 'no newline'", stdout: "no newline"},
		{cmd: "printf 'a\\000b\\377'", stdout: "a\x00b\xff"},
		// A command that reads its input gets none: the shell's input carries
		// the next commands.
		{cmd: "cat; echo after", stdout: "after\n"},
		{cmd: "echo 'unbalanced", stderr: "Syntax error", code: 2},
		{cmd: "exit", stdout: ""},
	}
	for _, tc := range cases {
		res := run(t, c, tc.cmd, nil)
		if string(res.Stdout) != tc.stdout || res.ExitCode != tc.code ||
			!strings.Contains(string(res.Stderr), tc.stderr) {
			t.Errorf("Run(%q) = stdout %q, stderr %q, exit %d; want %q, %q, %d",
				tc.cmd, res.Stdout, res.Stderr, res.ExitCode, tc.stdout, tc.stderr, tc.code)
		}
	}

	if n := len(f.srv.Commands()); n != 1 {
		t.Errorf("commands opened %d sessions, want only the root shell's: %q", n, f.srv.Commands())
	}
	if log := readLocal(t, f.fakeSudoLog); strings.Count(log, "\n") != 1 {
		t.Errorf("sudo ran more than once:\n%s", log)
	}
}

func TestShellOutputCannotForgeItsEnd(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)

	// The markers' layout with a nonce that is not the real one, then more
	// output, which must all reach the caller.
	cmd := `printf '%s\n' 0123456789abcdef0123456789abcdef >&2; ` +
		`printf '%s 0\n' 0123456789abcdef0123456789abcdef; echo still`
	res := run(t, c, cmd, nil)

	if want := "0123456789abcdef0123456789abcdef 0\nstill\n"; string(res.Stdout) != want {
		t.Errorf("stdout = %q, want %q", res.Stdout, want)
	}
}

func TestShellOutputCapped(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)

	res := run(t, c, "head -c 5000000 /dev/zero; echo", nil)

	if len(res.Stdout) != maxOutput || !res.Truncated {
		t.Errorf("stdout of %d bytes, truncated %v; want %d bytes, truncated", len(res.Stdout),
			res.Truncated, maxOutput)
	}
	if res := run(t, c, "echo next", nil); string(res.Stdout) != "next\n" {
		t.Errorf("the command after a capped one returned %q", res.Stdout)
	}
}

func TestShellCancelledCommand(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := c.Run(ctx, "sleep 30", nil)

	wantErr(t, err, context.DeadlineExceeded)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Run returned after %v", elapsed)
	}
	// Output of the cancelled command could still arrive on the shell's
	// streams, so the next command runs on a session of its own.
	sessions := len(f.srv.Commands())
	if res := run(t, c, "echo next", nil); string(res.Stdout) != "next\n" {
		t.Errorf("the command after a cancelled one returned %q", res.Stdout)
	}
	if len(f.srv.Commands()) != sessions+1 {
		t.Errorf("the command after a cancelled one ran in the shell")
	}
}

func TestShellHoldsTheLock(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	path := t.TempDir() + "/host.lock"
	first := f.dial(t)
	second := f.dial(t)
	ctx := context.Background()

	release, err := first.Lock(ctx, path, "run one", time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = second.Lock(ctx, path, "run two", time.Second)
	wantErr(t, err, ErrLocked)
	wantContains(t, err, "run one")

	// Commands do not inherit the descriptor, so none can keep the lock
	// after the run.
	res := run(t, first, "ls /proc/self/fd", nil)
	if fds := strings.Fields(string(res.Stdout)); slices.Contains(fds, "9") {
		t.Errorf("a command inherited the lock's descriptor: %q", fds)
	}

	release()
	release2, err := second.Lock(ctx, path, "run two", 5*time.Second)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	release2()
	if res := run(t, second, "echo after", nil); string(res.Stdout) != "after\n" {
		t.Errorf("the shell after a lock returned %q", res.Stdout)
	}
}

func TestShellLockWaitCancelled(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	path := t.TempDir() + "/host.lock"
	first, second := f.dial(t), f.dial(t)
	release, err := first.Lock(context.Background(), path, "run one", time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err = second.Lock(ctx, path, "run two", time.Minute)

	wantErr(t, err, context.DeadlineExceeded)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Lock returned after %v", elapsed)
	}
}

func TestShellEndedWithTheLock(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)
	release, err := c.Lock(context.Background(), t.TempDir()+"/host.lock", "run", time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer release()

	// The command's parent is the root shell.
	_, err = c.Run(context.Background(), "kill -KILL $PPID", nil)
	wantErr(t, err, errShellEnded)

	_, err = c.Run(context.Background(), "echo unlocked", nil)
	wantErr(t, err, errShellEnded)
	wantContains(t, err, "host lock was lost")
}

func TestShellPasswordSentOnlyWhenPrompted(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "pw-secret")
	f.cfg.BecomePassword = []byte("pw-secret")
	c := f.dial(t)

	res := run(t, c, "echo ok", nil)

	if string(res.Stdout) != "ok\n" {
		t.Errorf("stdout = %q", res.Stdout)
	}
	if c.become.password == nil {
		t.Errorf("sudo prompted, but the client forgot the password")
	}
	if bytes.Contains(res.Stderr, []byte(becomePrompt)) {
		t.Errorf("the prompt reached the command's stderr: %q", res.Stderr)
	}
}

func TestShellStartTimesOut(t *testing.T) {
	f := newFixture(t)
	// A sudo that prompts in a way the client does not recognize waits for
	// a password forever.
	f.withFakeSudo(t, "pw-secret")
	f.cfg.BecomePassword = []byte("pw-secret")
	f.cfg.ConnectTimeout = time.Second
	saved := becomePromptArg
	becomePromptArg = "Password: "
	defer func() { becomePromptArg = saved }()
	savedTimeout := shellStartTimeout
	shellStartTimeout = time.Second
	defer func() { shellStartTimeout = savedTimeout }()

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrBecome)
	wantContains(t, err, "started no shell within 1s", "passprompt_override")
	if err != nil && errors.Is(err, ErrUnreachable) {
		t.Errorf("a hung sudo counts as an unreachable host: %v", err)
	}
}

func TestShellLockReleasedAfterCancel(t *testing.T) {
	// Each command outlives the cancel's SIGTERM on its own: one ignores it,
	// the other stopped itself.
	commands := map[string]string{
		"ignores SIGTERM": "trap '' TERM; sleep 30",
		"stopped itself":  "kill -STOP $$; echo continued",
	}
	for name, cmd := range commands {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.withFakeSudo(t, "")
			path := t.TempDir() + "/host.lock"
			first, second := f.dial(t), f.dial(t)
			release, err := first.Lock(context.Background(), path, "run one", time.Second)
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()

			_, err = first.Run(ctx, cmd, nil)
			wantErr(t, err, context.DeadlineExceeded)
			release()

			release2, err := second.Lock(context.Background(), path, "run two", 5*time.Second)
			if err != nil {
				t.Fatalf("Lock after the release: %v", err)
			}
			release2()
		})
	}
}

func TestShellCommandKillsOnlyItself(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)

	res := run(t, c, "echo before; kill -KILL $$; echo after", nil)

	if res.ExitCode != 137 || string(res.Stdout) != "before\n" {
		t.Errorf("exit %d, stdout %q; want 137 and %q", res.ExitCode, res.Stdout, "before\n")
	}
	if res := run(t, c, "echo next", nil); string(res.Stdout) != "next\n" {
		t.Errorf("the command after returned %q", res.Stdout)
	}
	if n := len(f.srv.Commands()); n != 1 {
		t.Errorf("commands opened %d sessions, want only the root shell's", n)
	}
}

func TestShellStrayOutputStaysOut(t *testing.T) {
	f := newFixture(t)
	f.withFakeSudo(t, "")
	c := f.dial(t)

	run(t, c, "(sleep 0.3; echo late; echo late >&2) &", nil)
	time.Sleep(600 * time.Millisecond)
	res := run(t, c, "echo mine", nil)

	if string(res.Stdout) != "mine\n" || len(res.Stderr) != 0 {
		t.Errorf("stdout %q, stderr %q; want only the command's own output", res.Stdout, res.Stderr)
	}
	sessions := len(f.srv.Commands())
	run(t, c, "true", nil)
	if len(f.srv.Commands()) != sessions+1 {
		t.Errorf("a command ran in the shell after stray output arrived")
	}
}
