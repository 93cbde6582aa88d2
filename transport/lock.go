package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// ErrLocked is wrapped when another process holds the host lock longer than the wait.
var ErrLocked = errors.New("host locked by another run")

// lockBusyStatus is the exit status flock(1) is told to use when the wait runs out.
const lockBusyStatus = 75

// Lock takes an exclusive lock on the host for as long as the returned release function
// is not called, so that two runs never change one host at the same time. It waits up to
// wait for a lock held by another process, and fails with ErrLocked, naming the holder,
// after that. owner is recorded next to the lock for that message.
//
// The lock is an flock(1) held by a command that lives as long as its session. If this
// process dies, sshd closes the session, the command ends and the lock is released, so a
// killed run never leaves a host locked.
//
// With Become the root shell takes the lock itself, which costs no sudo of its own.
func (c *Client) Lock(ctx context.Context, path, owner string, wait time.Duration) (func(), error) {
	if c.shell != nil {
		if err := c.shell.lock(ctx, path, owner, wait); err != nil {
			return nil, c.failure(ctx, "lock "+path, err)
		}
		return c.shell.unlock, nil
	}

	secs := max(int(wait.Round(time.Second).Seconds()), 1)
	script := fmt.Sprintf("umask 077; exec 9>>%[1]s || exit 1; flock -w %[2]d -E %[3]d 9; status=$?; "+
		"if [ $status -ne 0 ]; then cat %[1]s.owner >&2 2>/dev/null; exit $status; fi; "+
		"printf '%%s\\n' %[4]s > %[1]s.owner; echo locked; exec cat >/dev/null",
		shellQuote(path), secs, lockBusyStatus, shellQuote(owner))

	sess, err := await(ctx, c.conn.NewSession, closeSession)
	if err != nil {
		return nil, c.failure(ctx, "lock "+path, fmt.Errorf("open session: %w", err))
	}
	release, err := c.holdLock(ctx, sess, script)
	if err != nil {
		sess.Close()
		return nil, c.failure(ctx, "lock "+path, err)
	}
	return release, nil
}

// holdLock starts the lock script and waits until it reports the lock taken.
func (c *Client) holdLock(ctx context.Context, sess *ssh.Session, script string) (func(), error) {
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := newCappedBuffer(4096)
	sess.Stderr = stderr

	line, prefix := c.commandLine(script)
	if err := sess.Start(line); err != nil {
		return nil, fmt.Errorf("start lock command: %w", err)
	}
	if _, err := stdin.Write(prefix); err != nil {
		return nil, fmt.Errorf("start lock command: %w", err)
	}

	taken := make(chan error, 1)
	go func() {
		got, err := bufio.NewReader(stdout).ReadString('\n')
		if got == "locked\n" {
			taken <- nil
			io.Copy(io.Discard, stdout)
			return
		}
		taken <- err
	}()

	select {
	case <-ctx.Done():
		sess.Signal(ssh.SIGTERM)
		return nil, ctx.Err()
	case err := <-taken:
		if err != nil {
			return nil, lockError(sess.Wait(), stderr)
		}
	}

	release := func() {
		stdin.Close()
		waited := make(chan struct{})
		go func() { sess.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(5 * time.Second):
		}
		sess.Close()
	}
	return release, nil
}

// lockError explains why the lock command ended without taking the lock.
func lockError(waitErr error, stderr *cappedBuffer) error {
	var exit *ssh.ExitError
	if errors.As(waitErr, &exit) {
		return lockFailure(exit.ExitStatus(), stderr.Bytes())
	}
	return fmt.Errorf("take lock: %v: %s", waitErr, strings.TrimSpace(string(stderr.Bytes())))
}

// lockFailure explains the exit status of a lock command that did not take
// the lock. Its stderr holds the owner file of the lock when another run
// holds it.
func lockFailure(status int, stderr []byte) error {
	holder := strings.TrimSpace(string(stderr))
	if status == lockBusyStatus {
		if holder == "" {
			holder = "unknown"
		}
		return fmt.Errorf("%w (holder: %s)", ErrLocked, holder)
	}
	return fmt.Errorf("take lock: exit status %d: %s", status, holder)
}
