package transport

import (
	"net"
	"syscall"
)

// quickAckConn is a TCP connection that acknowledges every segment it reads at once.
//
// Linux delays the acknowledgement of a segment by up to 40 ms while the reader has
// nothing to send, and a sender with Nagle's algorithm on holds back a small packet until
// the previous one is acknowledged. With OpenSSH 9.2 on loopback, measured with
// x/crypto/ssh, opening the first session of a connection took about 45 ms, and 4 ms with
// TCP_QUICKACK set. The kernel turns quick acknowledgements off again by itself, so the
// option is set after every read.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

// QuickAck returns conn reading with immediate acknowledgements where conn is a
// TCP connection, and conn itself otherwise. Dial uses it for every direct connection,
// and the benchmark's floor client for its own.
func QuickAck(conn net.Conn) net.Conn {
	tcp, ok := conn.(*net.TCPConn)
	if !ok {
		return conn
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return conn
	}
	return &quickAckConn{TCPConn: tcp, raw: raw}
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 {
		// A failure only leaves the kernel's default, so it is ignored.
		c.raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
