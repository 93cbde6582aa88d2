package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// sftpStartGrace is how long a failed SFTP start waits for the remote
// command to exit, so its stderr (a sudo message) can go into the error.
const sftpStartGrace = time.Second

// sftpSession is the SFTP client of a connection and the channel it runs
// on.
type sftpSession struct {
	session *ssh.Session
	client  *sftp.Client
}

// sftpSlot keeps one SFTP session of a connection, started on first use.
type sftpSlot struct {
	mu      sync.Mutex
	session *sftpSession // nil until the first file operation
	// asLogin runs the server as the login user even with Become, for reads that need
	// no sudo.
	asLogin bool
	// unavailable is set when the server could not be started as the login user, such
	// as on a host whose sshd has no sftp subsystem, so reads use sudo's server.
	unavailable bool
}

// withSFTP runs fn on the SFTP session of c that writes as root with Become,
// starting the session if needed.
func withSFTP[T any](ctx context.Context, c *Client, op string,
	fn func(*sftp.Client) (T, error)) (T, error) {
	return withSFTPOn(ctx, c, &c.sftp, op, fn)
}

// withSFTPOn runs fn on the SFTP session in slot, starting the session if
// needed. When ctx ends first, the session is closed, which makes fn fail,
// and the next file operation starts a new one.
//
// NOTE: a cancelled operation also fails the other file operations in
// flight on this connection, because they share the session. A request
// already sent when ctx ends may still take effect, so a cancelled WriteFile
// can have replaced the file, though never partly.
func withSFTPOn[T any](ctx context.Context, c *Client, slot *sftpSlot, op string,
	fn func(*sftp.Client) (T, error)) (T, error) {
	var zero T
	s, err := c.sftpSession(ctx, slot)
	if err != nil {
		return zero, c.failure(ctx, op, err)
	}

	value, err := await(ctx, func() (T, error) { return fn(s.client) }, nil)
	if err != nil && ctx.Err() != nil {
		c.dropSFTP(slot, s)
	}
	if err != nil {
		return zero, c.failure(ctx, op, err)
	}

	return value, nil
}

// sftpSession returns the open SFTP session of slot or starts one. Callers
// wait for a start in progress.
func (c *Client) sftpSession(ctx context.Context, slot *sftpSlot) (*sftpSession, error) {
	slot.mu.Lock()
	defer slot.mu.Unlock()

	if slot.session != nil {
		return slot.session, nil
	}

	s, err := c.startSFTP(ctx, slot.asLogin)
	if err != nil {
		if slot.asLogin && ctx.Err() == nil {
			slot.unavailable = true
		}
		return nil, err
	}

	slot.session = s
	go func() {
		s.client.Wait()
		c.dropSFTP(slot, s)
	}()
	return s, nil
}

// loginSFTPUnavailable reports whether reads as the login user failed to start.
func (c *Client) loginSFTPUnavailable() bool {
	c.loginSFTP.mu.Lock()
	defer c.loginSFTP.mu.Unlock()
	return c.loginSFTP.unavailable
}

// dropSFTP closes s and clears the reference of slot to it, unless a newer
// session replaced it.
func (c *Client) dropSFTP(slot *sftpSlot, s *sftpSession) {
	slot.mu.Lock()
	if slot.session == s {
		slot.session = nil
	}
	slot.mu.Unlock()

	// The client's Close waits for its reader, which a stuck server never
	// ends, so it must not block the caller.
	s.session.Close()
	go s.client.Close()
}

// close closes the session of slot, if any.
func (slot *sftpSlot) close() {
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.session != nil {
		slot.session.client.Close()
		slot.session = nil
	}
}

// startSFTP opens a session and starts an SFTP server on it: the "sftp"
// subsystem, or with Become and unless asLogin, sftp-server run through sudo.
func (c *Client) startSFTP(ctx context.Context, asLogin bool) (*sftpSession, error) {
	sess, err := await(ctx, c.conn.NewSession, closeSession)
	if err != nil {
		return nil, fmt.Errorf("open sftp session: %w", err)
	}

	client, err := c.startSFTPOn(ctx, sess, asLogin)
	if err != nil {
		sess.Close()
		return nil, err
	}

	return &sftpSession{session: sess, client: client}, nil
}

// startSFTPOn starts the SFTP server on sess and returns a client for it.
func (c *Client) startSFTPOn(ctx context.Context, sess *ssh.Session,
	asLogin bool) (*sftp.Client, error) {
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("sftp stdin: %w", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("sftp stdout: %w", err)
	}
	stderr := newCappedBuffer(64 << 10)
	sess.Stderr = stderr

	if err := c.requestSFTP(ctx, sess, stdin, asLogin); err != nil {
		return nil, err
	}

	client, err := await(ctx, func() (*sftp.Client, error) {
		return sftp.NewClientPipe(stdout, stdin, sftp.UseConcurrentWrites(true))
	}, func(cl *sftp.Client) { cl.Close() })
	if err != nil && ctx.Err() == nil {
		return nil, c.sftpStartError(sess, stderr, err)
	}
	if err != nil {
		return nil, err
	}

	return client, nil
}

// requestSFTP requests an SFTP server on sess. With Become and a password,
// the password line goes first on standard input. sudo reads it byte by byte
// up to the newline and leaves the rest to sftp-server, as the lab tests
// check with sudo 1.9 on Debian 12.
func (c *Client) requestSFTP(ctx context.Context, sess *ssh.Session, stdin io.Writer,
	asLogin bool) error {
	if c.become == nil || asLogin {
		_, err := await(ctx, func() (struct{}, error) {
			return struct{}{}, sess.RequestSubsystem("sftp")
		}, nil)
		if err != nil {
			return fmt.Errorf("request sftp subsystem: %w", err)
		}
		return nil
	}

	if c.become.sftpServer == "" {
		return fmt.Errorf("start sftp-server as root: no sftp-server found on the host "+
			"(looked in %s)", strings.Join(sftpServerPaths, ", "))
	}

	line, prefix := c.become.sudo(shellQuote(c.become.sftpServer))
	_, err := await(ctx, func() (struct{}, error) { return struct{}{}, sess.Start(line) }, nil)
	if err != nil {
		return fmt.Errorf("start %s through sudo: %w", c.become.sftpServer, err)
	}

	if prefix != nil {
		if _, err := stdin.Write(prefix); err != nil {
			return fmt.Errorf("send sudo password: %w", err)
		}
	}

	return nil
}

// sftpStartError adds the remote stderr, such as a sudo message, to a
// failed SFTP start.
func (c *Client) sftpStartError(sess *ssh.Session, stderr *cappedBuffer, err error) error {
	waited := make(chan struct{})
	go func() {
		sess.Wait()
		close(waited)
	}()

	select {
	case <-waited:
	case <-time.After(sftpStartGrace):
	}

	var password []byte
	if c.become != nil {
		password = c.become.password
	}

	detail := remoteMessage(stderr.Bytes(), password)
	if detail == "" {
		return fmt.Errorf("start sftp: %w", err)
	}

	if c.become != nil && strings.Contains(detail, "sudo") {
		return fmt.Errorf("start sftp: %w: %w (remote stderr: %s)", ErrBecome, err, detail)
	}
	return fmt.Errorf("start sftp: %w (remote stderr: %s)", err, detail)
}

// isSFTPStatus reports whether err is an error status from the SFTP server.
// pkg/sftp turns the "no such file" and "permission denied" statuses into
// fs.ErrNotExist and fs.ErrPermission, and keeps the others as StatusError.
func isSFTPStatus(err error) bool {
	var status *sftp.StatusError
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.As(err, &status)
}
