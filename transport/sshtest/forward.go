package sshtest

import (
	"io"
	"net"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

// forwardDialTimeout bounds the connection to a forwarding destination.
const forwardDialTimeout = 5 * time.Second

// Forwards returns the destinations of the direct-tcpip channels opened so
// far, as host:port, in order. A jump host serves one such channel per
// target connection through it.
func (s *Server) Forwards() []string {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]string(nil), s.forwards...)
}

// serveForward serves a direct-tcpip channel (RFC 4254, section 7.2) to a
// loopback destination and rejects every other destination, so tests never
// send traffic off the machine.
func (s *Server) serveForward(newCh ssh.NewChannel) {
	defer s.wg.Done()

	var target struct {
		Host       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}
	if err := ssh.Unmarshal(newCh.ExtraData(), &target); err != nil {
		newCh.Reject(ssh.ConnectionFailed, "invalid direct-tcpip request")
		return
	}

	addr := net.JoinHostPort(target.Host, strconv.Itoa(int(target.Port)))
	s.mu.Lock()
	s.forwards = append(s.forwards, addr)
	s.mu.Unlock()

	if !isLoopback(target.Host) {
		newCh.Reject(ssh.Prohibited, "sshtest forwards to loopback addresses only")
		return
	}

	conn, err := net.DialTimeout("tcp", addr, forwardDialTimeout)
	if err != nil {
		newCh.Reject(ssh.ConnectionFailed, err.Error())
		return
	}

	ch, reqs, err := newCh.Accept()
	if err != nil {
		conn.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	pipe(ch, conn)
}

// pipe copies between ch and conn in both directions. When either side
// ends, it closes both, so that a dropped connection never leaves the other
// copy, and Close, waiting.
func pipe(ch ssh.Channel, conn net.Conn) {
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(ch, conn)
		done <- struct{}{}
	}()
	go func() {
		io.Copy(conn, ch)
		done <- struct{}{}
	}()

	<-done
	ch.Close()
	conn.Close()
	<-done
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}

	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
