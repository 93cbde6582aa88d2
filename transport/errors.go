package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors that Dial, Run and the file operations wrap. Test for them
// with errors.Is.
var (
	// ErrUnreachable is wrapped when the host cannot be reached: connection
	// refused, no route, a failed DNS lookup, a timeout, or a connection
	// that died while in use.
	ErrUnreachable = errors.New("host unreachable")

	// ErrAuth is wrapped when every authentication method was rejected, or
	// when a private key could not be read or decrypted.
	ErrAuth = errors.New("authentication failed")

	// ErrHostKeyUnknown is wrapped when the host's key is not in the
	// known_hosts file and new keys are not accepted.
	ErrHostKeyUnknown = errors.New("host key unknown")

	// ErrHostKeyChanged is wrapped when the host presents a key that differs
	// from the one recorded in the known_hosts file, or a revoked key.
	ErrHostKeyChanged = errors.New("host key changed")

	// ErrBecome is wrapped when sudo rejects the login user or the password.
	ErrBecome = errors.New("become failed")

	// ErrTimeout is wrapped when a connect timeout or a context deadline
	// expired.
	ErrTimeout = errors.New("timed out")
)

// maxStderrInError is the length of the stderr tail that CommandError keeps.
const maxStderrInError = 2048

// maxCmdInError is the length of a command kept in error messages.
const maxCmdInError = 200

// CommandError is a remote command that exited with a nonzero status.
type CommandError struct {
	Host     string
	Cmd      string
	ExitCode int
	Stderr   string // tail of the command's stderr
}

// Error returns the host, the command, its exit status and its stderr tail.
func (e *CommandError) Error() string {
	var b strings.Builder
	if e.Host != "" {
		b.WriteString(e.Host + ": ")
	}

	fmt.Fprintf(&b, "run %q: exit status %d", shorten(e.Cmd), e.ExitCode)
	if e.Stderr != "" {
		b.WriteString(": " + e.Stderr)
	}

	return b.String()
}

// Err returns a *CommandError when the command exited nonzero, and nil
// otherwise. The error keeps the tail of stderr, trimmed of surrounding
// white space.
func (r Result) Err(host, cmd string) error {
	if r.ExitCode == 0 {
		return nil
	}

	stderr := strings.TrimSpace(string(r.Stderr))
	if len(stderr) > maxStderrInError {
		stderr = "..." + stderr[len(stderr)-maxStderrInError:]
	}

	return &CommandError{Host: host, Cmd: cmd, ExitCode: r.ExitCode, Stderr: stderr}
}

// shorten cuts a command to maxCmdInError bytes for error messages.
func shorten(cmd string) string {
	if len(cmd) <= maxCmdInError {
		return cmd
	}

	return cmd[:maxCmdInError] + "..."
}

// contextError wraps the error of a done context for operation op, adding
// ErrTimeout when its deadline expired. A deadline that has passed counts
// even before ctx reports it, because a connection deadline set from it can
// fire first.
func contextError(ctx context.Context, op string) error {
	err := ctx.Err()
	if err == nil && deadlinePassed(ctx) {
		err = context.DeadlineExceeded
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w (%w)", op, err, ErrTimeout)
	}

	return fmt.Errorf("%s: %w", op, err)
}

// deadlinePassed reports whether the deadline of ctx, if any, has passed.
func deadlinePassed(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return ok && !time.Now().Before(deadline)
}
