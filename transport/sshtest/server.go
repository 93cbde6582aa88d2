// Package sshtest runs an in-process SSH server on the loopback interface for
// tests of package transport. It runs exec requests with /bin/sh -c as the
// current user, serves the "sftp" subsystem from the local file system and
// forwards TCP connections to loopback addresses, as a jump host does.
// Tests can make it misbehave: stay silent, delay the handshake, change its
// host key, reject every key, ignore keepalives or drop its connections.
package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server is an SSH server listening on 127.0.0.1. Its methods are safe for
// concurrent use, and settings apply to connections accepted afterwards,
// except IgnoreKeepalives and DropConnections, which apply at once.
type Server struct {
	addr *net.TCPAddr
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup

	mu               sync.Mutex
	hostKey          ssh.Signer
	authorized       map[string]bool
	rejectAuth       bool
	handshakeDelay   time.Duration
	silent           bool
	ignoreKeepalives bool
	noSFTP           bool
	env              []string
	conns            map[net.Conn]bool
	accepted         int
	commands         []string
	forwards         []string
}

// Start starts a server on 127.0.0.1 with a fresh ed25519 host key and
// stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen on 127.0.0.1: %v", err)
	}

	s := &Server{
		addr:       ln.Addr().(*net.TCPAddr),
		ln:         ln,
		done:       make(chan struct{}),
		hostKey:    newHostKey(tb),
		authorized: make(map[string]bool),
		conns:      make(map[net.Conn]bool),
	}

	s.wg.Add(1)
	go s.acceptLoop()
	tb.Cleanup(s.Close)
	return s
}

// newHostKey generates an ed25519 host key.
func newHostKey(tb testing.TB) ssh.Signer {
	tb.Helper()

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatalf("generate host key: %v", err)
	}

	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatalf("wrap host key: %v", err)
	}
	return signer
}

// Host returns the address the server listens on, 127.0.0.1.
func (s *Server) Host() string {
	return s.addr.IP.String()
}

// Port returns the port the server listens on.
func (s *Server) Port() int {
	return s.addr.Port
}

// Addr returns host:port.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Host(), strconv.Itoa(s.Port()))
}

// HostKey returns the public host key the server presents now.
func (s *Server) HostKey() ssh.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.hostKey.PublicKey()
}

// KnownHostsLine returns a known_hosts line for the current host key.
func (s *Server) KnownHostsLine() string {
	return s.KnownHostsLineFor(s.HostKey())
}

// KnownHostsLineFor returns a known_hosts line that records key for the
// server's address.
func (s *Server) KnownHostsLineFor(key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, key)
}

// ChangeHostKey replaces the host key with a fresh one, as a reinstalled or
// impersonated host would, and returns its public key.
func (s *Server) ChangeHostKey(tb testing.TB) ssh.PublicKey {
	tb.Helper()

	key := newHostKey(tb)
	s.mu.Lock()
	s.hostKey = key
	s.mu.Unlock()

	return key.PublicKey()
}

// Authorize accepts key for public key authentication of any user.
func (s *Server) Authorize(key ssh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.authorized[string(key.Marshal())] = true
}

// RejectAuth makes the server reject every key, authorized or not.
func (s *Server) RejectAuth(reject bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.rejectAuth = reject
}

// DelayHandshake makes the server wait d after accepting a connection
// before it starts the SSH handshake.
func (s *Server) DelayHandshake(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.handshakeDelay = d
}

// Silence makes the server accept TCP connections and never send a byte,
// as a stuck sshd or a black-holing middlebox does.
func (s *Server) Silence(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.silent = silent
}

// IgnoreKeepalives makes the server leave global requests, such as
// keepalive@openssh.com, unanswered, as a host that froze would.
func (s *Server) IgnoreKeepalives(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.ignoreKeepalives = ignore
}

// DisableSFTP makes the server reject requests for the "sftp" subsystem, as
// an sshd without a Subsystem line does. Commands, such as sftp-server run
// through sudo, still work.
func (s *Server) DisableSFTP(disable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.noSFTP = disable
}

// SetEnv adds "KEY=value" entries to the environment of the commands that
// the server runs, after the test process's own environment.
func (s *Server) SetEnv(env ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.env = append([]string(nil), env...)
}

// Connections returns the number of TCP connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.accepted
}

// Commands returns the exec requests received so far, in order.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]string(nil), s.commands...)
}

// DropConnections closes every open connection, as a host that rebooted
// would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()

	for conn := range s.conns {
		conn.Close()
	}
}

// Close stops the server, closes its connections and kills the commands
// still running.
func (s *Server) Close() {
	select {
	case <-s.done:
		return
	default:
	}

	close(s.done)
	s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
}

// acceptLoop serves each connection on its own goroutine.
func (s *Server) acceptLoop() {
	defer s.wg.Done()

	for {
		conn, err := s.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}

		s.mu.Lock()
		s.conns[conn] = true
		s.accepted++
		select {
		case <-s.done:
			// Close ran between Accept and here and did not see conn.
			conn.Close()
		default:
		}
		s.mu.Unlock()

		s.wg.Add(1)
		go s.serveConn(conn)
	}
}

// serveConn runs the SSH protocol on conn until it closes.
func (s *Server) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.forget(conn)

	s.mu.Lock()
	silent, delay := s.silent, s.handshakeDelay
	s.mu.Unlock()

	if silent {
		io.Copy(io.Discard, conn)
		return
	}

	select {
	case <-time.After(delay):
	case <-s.done:
		return
	}

	sconn, chans, reqs, err := ssh.NewServerConn(conn, s.config())
	if err != nil {
		return
	}
	defer sconn.Close()

	go s.answerGlobal(reqs)
	for newCh := range chans {
		if newCh.ChannelType() == "direct-tcpip" {
			s.wg.Add(1)
			go s.serveForward(newCh)
			continue
		}
		if newCh.ChannelType() != "session" {
			newCh.Reject(ssh.UnknownChannelType, "only session channels are served")
			continue
		}

		ch, chReqs, err := newCh.Accept()
		if err != nil {
			continue
		}

		s.wg.Add(1)
		go s.serveSession(ch, chReqs)
	}
}

// forget closes conn and drops it from the open connections.
func (s *Server) forget(conn net.Conn) {
	conn.Close()

	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

// config returns the server configuration for a new connection.
func (s *Server) config() *ssh.ServerConfig {
	s.mu.Lock()
	defer s.mu.Unlock()

	config := &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	config.AddHostKey(s.hostKey)
	return config
}

// checkKey accepts authorized keys unless every key is rejected.
func (s *Server) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.rejectAuth || !s.authorized[string(key.Marshal())] {
		return nil, errors.New("public key rejected")
	}
	return &ssh.Permissions{}, nil
}

// answerGlobal replies failure to global requests, keepalives included, as
// OpenSSH does for request types it does not implement. With
// IgnoreKeepalives it sends no reply at all.
func (s *Server) answerGlobal(reqs <-chan *ssh.Request) {
	for req := range reqs {
		s.mu.Lock()
		ignore := s.ignoreKeepalives
		s.mu.Unlock()

		if !ignore && req.WantReply {
			req.Reply(false, nil)
		}
	}
}
