package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// connect dials the host of cfg, through its jump hosts if any, and
// completes the SSH handshake and authentication within the connect timeout.
func connect(ctx context.Context, cfg *Config, creds *credentials) (*ssh.Client, error) {
	addr := cfg.addr()
	dialCtx, cancel := context.WithTimeout(ctx, cfg.connectTimeout())
	defer cancel()

	conn, err := dialTarget(dialCtx, cfg, addr)
	if err != nil {
		return nil, connectError(ctx, dialCtx, cfg, addr, err)
	}

	client, err := handshake(dialCtx, conn, addr, cfg, creds)
	if err != nil {
		return nil, connectError(ctx, dialCtx, cfg, addr, err)
	}

	return client, nil
}

// handshake runs the SSH handshake on conn. The deadline of ctx applies to
// every read and write until it ends, and ctx being done closes conn.
func handshake(ctx context.Context, conn net.Conn, addr string, cfg *Config,
	creds *credentials) (*ssh.Client, error) {
	var keyChecked atomic.Bool
	checkKey := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cfg.HostKeys.Callback(hostname, remote, key)
		keyChecked.Store(err == nil)
		return err
	}

	config := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(creds.list)},
		HostKeyCallback:   checkKey,
		HostKeyAlgorithms: cfg.HostKeys.algorithms(addr),
	}

	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })

	sshConn, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if err != nil {
		stop()
		conn.Close()
		return nil, classifyHandshake(err, keyChecked.Load(), config.HostKeyAlgorithms, creds)
	}

	// A handshake that ends as the connect deadline passes may find conn closed by the
	// AfterFunc, or its reads timed out, which leaves the connection unusable. Clearing
	// the deadline before reading the clock makes the check complete, and such a host
	// is reported as timed out.
	conn.SetDeadline(time.Time{})
	expired := !deadline.IsZero() && !time.Now().Before(deadline)
	if !stop() || expired {
		sshConn.Close()
		return nil, fmt.Errorf("ssh handshake finished as the connect timeout ran out: %w",
			context.DeadlineExceeded)
	}
	return ssh.NewClient(sshConn, chans, reqs), nil
}

// classifyHandshake adds a sentinel to handshake failures that x/crypto/ssh
// reports only as text. When the known keys restricted the host key
// algorithms and none is common, the recorded keys are gone, which is
// ErrHostKeyChanged. Any failure after the host key was accepted is ErrAuth.
func classifyHandshake(err error, keyChecked bool, hostKeyAlgos []string,
	creds *credentials) error {
	var netErr net.Error
	switch {
	case errors.As(err, &netErr):
		return err
	case !keyChecked && len(hostKeyAlgos) > 0 &&
		strings.Contains(err.Error(), "no common algorithm for host key"):
		return fmt.Errorf("%w: the host offers none of the key types that known_hosts "+
			"records for it (%s): %w", ErrHostKeyChanged, strings.Join(hostKeyAlgos, ", "), err)
	case !keyChecked:
		return err
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w (%s): %w", ErrAuth, creds.describe(), err)
	default:
		return fmt.Errorf("%w after the host key check (%s): %w", ErrAuth,
			creds.describe(), err)
	}
}

// connectError wraps a dial or handshake failure. Host key and
// authentication failures keep their sentinels, the caller's context ending
// becomes a context error, and every other failure is ErrUnreachable.
// dialCtx is ctx bounded by the connect timeout.
func connectError(ctx, dialCtx context.Context, cfg *Config, addr string, err error) error {
	op := fmt.Sprintf("connect %s (%s)", cfg.Name, addr)
	switch {
	case errors.Is(err, ErrHostKeyUnknown), errors.Is(err, ErrHostKeyChanged),
		errors.Is(err, ErrAuth):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, ErrUnreachable):
		// A jump host on the way failed, and its error says which and why.
		return fmt.Errorf("%s: %w", op, err)
	case ctx.Err() != nil || deadlinePassed(ctx):
		return contextError(ctx, op)
	case dialCtx.Err() != nil || isTimeout(err):
		return fmt.Errorf("%s: %w: %w after %v: %w", op, ErrUnreachable, ErrTimeout,
			cfg.connectTimeout(), err)
	default:
		return fmt.Errorf("%s: %w: %w", op, ErrUnreachable, err)
	}
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}

	return errors.Is(err, context.DeadlineExceeded)
}
