package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunExitCodes(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	tests := []struct {
		cmd  string
		want int
	}{
		{"true", 0},
		{"exit 3", 3},
		{"false; exit 42", 42},
		{"kill -TERM $$", 128 + 15},
	}

	for _, tt := range tests {
		res := run(t, c, tt.cmd, nil)
		if res.ExitCode != tt.want {
			t.Errorf("Run(%q).ExitCode = %d, want %d", tt.cmd, res.ExitCode, tt.want)
		}
	}
}

func TestRunStdoutStderr(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)

	res := run(t, c, "echo out; echo err >&2", nil)

	if got := string(res.Stdout); got != "out\n" {
		t.Errorf("stdout = %q, want %q", got, "out\n")
	}
	if got := string(res.Stderr); got != "err\n" {
		t.Errorf("stderr = %q, want %q", got, "err\n")
	}
	if res.Truncated {
		t.Error("Truncated = true for short output")
	}
}

func TestRunStdin(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	large := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)

	tests := []struct {
		name  string
		stdin []byte
	}{
		{"none", nil},
		{"small", []byte("line one\nline two\n")},
		{"one MiB", large},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, c, "cat", tt.stdin)
			if !bytes.Equal(res.Stdout, tt.stdin) {
				t.Errorf("stdout has %d bytes, want the %d bytes of stdin", len(res.Stdout),
					len(tt.stdin))
			}
		})
	}
}

func TestRunSetsCLocale(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)

	res := run(t, c, `true; echo "$LC_ALL"`, nil)

	if got := string(res.Stdout); got != "C\n" {
		t.Errorf("LC_ALL in the second command = %q, want %q", got, "C\n")
	}
}

func TestRunOutputCapped(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)

	res := run(t, c, "head -c 5000000 /dev/zero; echo tail >&2", nil)

	if len(res.Stdout) != maxOutput {
		t.Errorf("stdout has %d bytes, want the cap %d", len(res.Stdout), maxOutput)
	}
	if !res.Truncated {
		t.Error("Truncated = false, want true")
	}
	if got := string(res.Stderr); got != "tail\n" {
		t.Errorf("stderr = %q, want %q", got, "tail\n")
	}
	if res.ExitCode != 0 {
		t.Errorf("ExitCode = %d, want 0", res.ExitCode)
	}
}

func TestRunCancelHangingCommand(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := c.Run(ctx, "sleep 30", nil)

	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Run returned %v after the deadline", elapsed)
	}
	wantErr(t, err, context.DeadlineExceeded)
	wantErr(t, err, ErrTimeout)
	wantContains(t, err, `run "sleep 30"`)

	// The connection stays usable.
	run(t, c, "true", nil)
}

func TestRunCanceledBeforeStart(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := c.Run(ctx, "true", nil)

	wantErr(t, err, context.Canceled)
	if errors.Is(err, ErrTimeout) {
		t.Errorf("cancel wraps ErrTimeout: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	words := []string{"", "plain", "it's", "'", "''", `a"b`, "$HOME", "`id`", "a\nb", `\'`}

	for _, word := range words {
		res := run(t, c, "printf %s "+shellQuote(word), nil)
		if got := string(res.Stdout); got != word {
			t.Errorf("printf of shellQuote(%q) = %q", word, got)
		}
	}
}

func TestResultErr(t *testing.T) {
	ok := Result{ExitCode: 0, Stderr: []byte("warning")}
	if err := ok.Err("web1", "true"); err != nil {
		t.Errorf("Err of exit 0 = %v, want nil", err)
	}

	failed := Result{ExitCode: 2, Stderr: []byte("  no such unit\n")}
	err := failed.Err("web1", "systemctl restart docker")

	var cmdErr *CommandError
	if !errors.As(err, &cmdErr) {
		t.Fatalf("Err = %v, want a *CommandError", err)
	}
	if cmdErr.Host != "web1" || cmdErr.Cmd != "systemctl restart docker" {
		t.Errorf("Host, Cmd = %q, %q", cmdErr.Host, cmdErr.Cmd)
	}
	if cmdErr.ExitCode != 2 {
		t.Errorf("ExitCode = %d, want 2", cmdErr.ExitCode)
	}
	if cmdErr.Stderr != "no such unit" {
		t.Errorf("Stderr = %q, want %q", cmdErr.Stderr, "no such unit")
	}
	want := `web1: run "systemctl restart docker": exit status 2: no such unit`
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

func TestResultErrKeepsStderrTail(t *testing.T) {
	long := strings.Repeat("x", 5000) + "the end"
	res := Result{ExitCode: 1, Stderr: []byte(long)}

	var cmdErr *CommandError
	errors.As(res.Err("h", "c"), &cmdErr)

	if !strings.HasSuffix(cmdErr.Stderr, "the end") {
		t.Errorf("Stderr does not end with the tail: %q", cmdErr.Stderr[len(cmdErr.Stderr)-20:])
	}
	if len(cmdErr.Stderr) > maxStderrInError+3 {
		t.Errorf("Stderr has %d bytes, want at most %d", len(cmdErr.Stderr), maxStderrInError+3)
	}
}

func TestCappedBuffer(t *testing.T) {
	b := newCappedBuffer(5)

	for _, chunk := range []string{"abc", "def", "gh"} {
		n, err := b.Write([]byte(chunk))
		if n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}

	if got := string(b.Bytes()); got != "abcde" {
		t.Errorf("Bytes = %q, want %q", got, "abcde")
	}
	if !b.Truncated() {
		t.Error("Truncated = false, want true")
	}
}
