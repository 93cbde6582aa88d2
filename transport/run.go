package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// maxOutput is the number of bytes of each of stdout and stderr that Run
// keeps. The rest is read and dropped, so memory stays bounded.
const maxOutput = 4 << 20

// Result is the outcome of a command that ran to its end.
type Result struct {
	Stdout, Stderr []byte // each capped at 4 MiB; Truncated reports a cut
	ExitCode       int    // 128+n when killed by signal n
	Truncated      bool   // Stdout or Stderr lost its tail
}

// Run runs cmd through the login user's shell on a new exec channel, with
// LC_ALL=C so that output parses the same on every host, and with stdin as
// its standard input. With Config.Become it runs as root: in the root shell
// when cmd reads no input and the shell is free, through sudo on a channel
// of its own otherwise. A nonzero exit status is not an error: Run returns
// errors only for transport failures, and Result.Err converts the exit
// status.
//
// When ctx ends first, Run sends SIGTERM to the command and returns the
// context error.
func (c *Client) Run(ctx context.Context, cmd string, stdin []byte) (Result, error) {
	start := time.Now()
	res, err, ran := c.runInShell(ctx, cmd, stdin)
	if !ran {
		line, prefix := c.commandLine(cmd)
		res, err = c.exec(ctx, line, prefix, stdin)
	}
	c.logCommand(ctx, cmd, res, err, time.Since(start))
	if err != nil {
		return res, c.failure(ctx, fmt.Sprintf("run %q", shorten(cmd)), err)
	}

	return res, nil
}

// runInShell runs cmd in the root shell and reports whether it did. A
// shell that ended while it held the host lock itself fails the command,
// since the lock ended with it.
func (c *Client) runInShell(ctx context.Context, cmd string, stdin []byte) (Result, error, bool) {
	if c.shell == nil || len(stdin) > 0 {
		return Result{}, nil, false
	}
	if res, err, ran := c.shell.run(ctx, withCLocale(cmd)); ran {
		return res, err, true
	}
	if c.shell.lockHeld.Load() && !c.shell.holder.Load() {
		if cause := c.shell.unusable.Load(); cause != nil && errors.Is(*cause, errShellEnded) {
			return Result{}, fmt.Errorf("the host lock was lost: %w", *cause), true
		}
	}
	return Result{}, nil, false
}

// commandLine returns the line to execute for cmd and what to send on
// standard input before the caller's stdin: the sudo password line, if any.
func (c *Client) commandLine(cmd string) (string, []byte) {
	script := withCLocale(cmd)
	if c.become == nil {
		return script, nil
	}

	return c.become.sudo("sh -c " + shellQuote(script))
}

// withCLocale prefixes a shell script with an export of LC_ALL=C, which,
// unlike an assignment prefix, applies to every command of the script.
func withCLocale(script string) string {
	return "export LC_ALL=C; " + script
}

// exec runs line on a new session, writing prefix and then stdin to its
// standard input. It returns ctx.Err() when ctx ends first.
//
// NOTE: SIGTERM on cancel reaches only the process that sshd started, which
// is the login shell or sudo, and sudo relays it to its command. Children of
// a shell that runs a compound command can outlive the cancel.
func (c *Client) exec(ctx context.Context, line string, prefix, stdin []byte) (Result, error) {
	sess, err := await(ctx, c.conn.NewSession, closeSession)
	if err != nil {
		return Result{}, fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()

	stdout, stderr := newCappedBuffer(maxOutput), newCappedBuffer(maxOutput)
	sess.Stdout, sess.Stderr = stdout, stderr
	if len(prefix)+len(stdin) > 0 {
		sess.Stdin = io.MultiReader(bytes.NewReader(prefix), bytes.NewReader(stdin))
	}

	done := make(chan error, 1)
	go func() { done <- sess.Run(line) }()

	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGTERM)
		return Result{}, ctx.Err()
	}

	return newResult(stdout, stderr, err)
}

// newResult builds the Result of a finished session from its Run error.
func newResult(stdout, stderr *cappedBuffer, err error) (Result, error) {
	res := Result{
		Stdout:    stdout.Bytes(),
		Stderr:    stderr.Bytes(),
		Truncated: stdout.Truncated() || stderr.Truncated(),
	}

	var exitErr *ssh.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitStatus()
		return res, nil
	default:
		return res, err
	}
}

// closeSession closes a session that is no longer wanted.
func closeSession(s *ssh.Session) {
	s.Close()
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cappedBuffer keeps the first max bytes written to it and counts the rest.
// Write reports success for dropped bytes too, so the SSH library keeps
// reading the channel and the cap never stalls the remote command. It is
// safe for concurrent use.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int64
}

func newCappedBuffer(max int) *cappedBuffer {
	return &cappedBuffer{max: max}
}

// Write appends what fits under the cap and drops the rest.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	keep := min(len(p), b.max-len(b.buf))
	b.buf = append(b.buf, p[:keep]...)
	b.dropped += int64(len(p) - keep)
	return len(p), nil
}

// Bytes returns the kept bytes.
func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf
}

// Truncated reports whether bytes were dropped.
func (b *cappedBuffer) Truncated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.dropped > 0
}
