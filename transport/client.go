package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// defaultKeepaliveInterval is the interval between keepalive@openssh.com
// requests, as in the ServerAliveInterval that OpenSSH users often set.
const defaultKeepaliveInterval = 15 * time.Second

// keepaliveMaxMissed is how many intervals a keepalive may go unanswered
// before the connection counts as dead, as ServerAliveCountMax does in
// OpenSSH.
const keepaliveMaxMissed = 3

// lostGrace is how long a failed operation waits to learn whether the
// connection died, which decides if its error wraps ErrUnreachable. Tests
// lengthen it.
var lostGrace = 100 * time.Millisecond

// Client is one SSH connection to one host, shared by all of its tasks. It
// is safe for concurrent use. Errors from Run and the file operations name
// the operation and its command or path, but not the host: callers add
// Name once.
type Client struct {
	name string
	user string
	// connectTimeout is the connect timeout of the Config.
	connectTimeout time.Duration
	conn           *ssh.Client
	logger         *slog.Logger
	become         *become    // nil without Config.Become
	shell          *rootShell // runs the commands of Run with Become

	sftp      sftpSlot // file operations, as root with Become
	loginSFTP sftpSlot // reads as the login user with Become, which need no sudo

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	lost      chan struct{} // closed when the connection ends
	lostErr   error         // cause of the end, set before lost is closed

	keepaliveErr atomic.Pointer[error] // set when keepalives went unanswered
}

// Dial connects to the host of cfg, checks its host key, logs in and, with
// cfg.Become, starts the root shell that runs its commands, which checks
// that sudo works. The connect timeout bounds the TCP connect, the handshake
// and authentication; ctx bounds all of Dial.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}

	creds, err := loadCredentials(&cfg)
	if err != nil {
		return nil, err
	}
	defer creds.close()

	conn, err := connect(ctx, &cfg, creds)
	if err != nil {
		return nil, err
	}

	c := newClient(&cfg, conn)
	if cfg.Become {
		if err := c.startShell(ctx, cfg.BecomePassword); err != nil {
			c.Close()
			return nil, err
		}
	}

	return c, nil
}

// newClient starts the goroutines that watch the connection.
func newClient(cfg *Config, conn *ssh.Client) *Client {
	c := &Client{
		name: cfg.Name,
		user: cfg.User,

		connectTimeout: cfg.connectTimeout(),
		conn:           conn,
		logger:         cfg.logger(),
		closing:        make(chan struct{}),
		lost:           make(chan struct{}),
	}
	c.loginSFTP.asLogin = true

	interval := cfg.keepaliveInterval
	if interval == 0 {
		interval = defaultKeepaliveInterval
	}

	go c.watch()
	go c.keepalive(interval)
	return c
}

// Name returns the inventory name of the host.
func (c *Client) Name() string {
	return c.name
}

// Close closes the SFTP session and the connection. Operations still
// running fail.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closing)
		err = c.conn.Close()

		// Closing the connection first ends the SFTP client's reads, so its
		// Close returns even when the server is stuck.
		c.sftp.close()
		c.loginSFTP.close()
	})

	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close connection to %s: %w", c.name, err)
	}
	return nil
}

// watch records why the connection ended.
func (c *Client) watch() {
	err := c.conn.Wait()
	if cause := c.keepaliveErr.Load(); cause != nil {
		err = *cause
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = errors.New("connection closed by the server")
	}

	select {
	case <-c.closing:
		err = errors.New("connection closed")
	default:
	}

	c.lostErr = err
	close(c.lost)
}

// keepalive sends keepalive@openssh.com every interval and closes the
// connection when replies stop, so that operations on a dead host fail with
// ErrUnreachable instead of hanging.
func (c *Client) keepalive(interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	for {
		select {
		case <-ticker.C:
		case <-c.lost:
			return
		}

		timeout := interval * keepaliveMaxMissed
		if !c.ping(timeout) {
			err := fmt.Errorf("no reply to keepalive within %v: %w", timeout, ErrTimeout)
			c.keepaliveErr.Store(&err)
			c.conn.Close()
			return
		}
	}
}

// ping reports whether the server replied to a keepalive within timeout.
// Any reply counts, including the failure that OpenSSH sends.
func (c *Client) ping(timeout time.Duration) bool {
	replied := make(chan error, 1)
	go func() {
		_, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil)
		replied <- err
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()

	select {
	case err := <-replied:
		return err == nil
	case <-c.lost:
		return true
	case <-timer.C:
		return false
	}
}

// failure wraps err, the failure of operation op, with what the caller needs
// to decide: the context error when ctx is done, ErrUnreachable when the
// connection died.
func (c *Client) failure(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil && !c.isClosing() && c.lostAfter(ctx, err) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnreachable, c.lostErr)
	}
	switch {
	case ctx.Err() != nil:
		return contextError(ctx, op)
	case c.isClosing():
		return fmt.Errorf("%s: client closed: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// lostAfter reports whether the connection ended, at once or within lostGrace,
// after an operation on it failed with err: the connection dies a moment after
// its channels fail. A status the SFTP server sent back or a channel it
// rejected shows the connection alive, so it needs no wait.
func (c *Client) lostAfter(ctx context.Context, err error) bool {
	var rejected *ssh.OpenChannelError
	if isSFTPStatus(err) || errors.As(err, &rejected) {
		return false
	}
	timer := time.NewTimer(lostGrace)
	defer timer.Stop()

	select {
	case <-c.lost:
		return true
	case <-ctx.Done():
		return false
	case <-c.closing:
		return false
	case <-timer.C:
		return false
	}
}

// isClosing reports whether Close has started.
func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// await runs fn and returns its result, or ctx.Err() as soon as ctx is
// done. A result that arrives after ctx is done is passed to undo, which
// releases it.
func await[T any](ctx context.Context, fn func() (T, error), undo func(T)) (T, error) {
	type outcome struct {
		value T
		err   error
	}

	done := make(chan outcome, 1)
	go func() {
		value, err := fn()
		done <- outcome{value: value, err: err}
	}()

	select {
	case out := <-done:
		return out.value, out.err
	case <-ctx.Done():
		go func() {
			if out := <-done; out.err == nil && undo != nil {
				undo(out.value)
			}
		}()

		var zero T
		return zero, ctx.Err()
	}
}
