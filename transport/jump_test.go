package transport

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fleetharden/fleetharden/transport/sshtest"
)

// jumpFixture is a target behind one or more jump hosts, all accepting one
// key and listed in one known_hosts file.
type jumpFixture struct {
	*fixture
	jumps []*sshtest.Server
}

// newJumpFixture starts a target and n jump hosts in front of it, and
// points the fixture's Config at the target through them.
func newJumpFixture(t *testing.T, n int) *jumpFixture {
	t.Helper()

	f := &jumpFixture{fixture: newFixture(t)}
	pub := publicKey(t, f.keyFile)
	lines := f.srv.KnownHostsLine() + "\n"
	for i := range n {
		srv := sshtest.Start(t)
		srv.Authorize(pub)
		lines += srv.KnownHostsLine() + "\n"
		f.jumps = append(f.jumps, srv)
		f.cfg.Jumps = append(f.cfg.Jumps, Jump{Name: "jump" + string(rune('1'+i)),
			Address: srv.Host(), Port: srv.Port(), User: "jumper",
			IdentityFiles: []string{f.keyFile}})
	}

	writeLocal(t, f.knownHosts, lines)
	f.cfg.HostKeys = loadKnownHosts(t, f.knownHosts, false)
	f.cfg.Bastions = NewBastions()
	return f
}

// publicKey returns the public key of an unencrypted private key file.
func publicKey(t *testing.T, keyFile string) ssh.PublicKey {
	t.Helper()

	signer, err := loadSigner(keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	return signer.PublicKey()
}

func TestDialThroughJumpHost(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)

	c := f.dial(t)
	res := run(t, c, "echo behind", nil)

	if got := string(res.Stdout); got != "behind\n" {
		t.Errorf("stdout = %q, want %q", got, "behind\n")
	}
	if got := f.jumps[0].Forwards(); len(got) != 1 || got[0] != f.srv.Addr() {
		t.Errorf("jump host forwarded to %v, want [%s]", got, f.srv.Addr())
	}
}

func TestDialThroughTwoJumpHosts(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 2)

	c := f.dial(t)
	run(t, c, "true", nil)

	if got := f.jumps[0].Forwards(); len(got) != 1 || got[0] != f.jumps[1].Addr() {
		t.Errorf("first jump host forwarded to %v, want [%s]", got, f.jumps[1].Addr())
	}
	if got := f.jumps[1].Forwards(); len(got) != 1 || got[0] != f.srv.Addr() {
		t.Errorf("second jump host forwarded to %v, want [%s]", got, f.srv.Addr())
	}
}

func TestBastionsShareOneConnection(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 2)

	var wg sync.WaitGroup
	clients := make(chan *Client, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(context.Background(), f.cfg)
			if err != nil {
				t.Errorf("Dial: %v", err)
				return
			}
			clients <- c
		}()
	}
	wg.Wait()
	close(clients)
	for c := range clients {
		run(t, c, "true", nil)
		c.Close()
	}

	if n := f.jumps[0].Connections(); n != 1 {
		t.Errorf("first jump host accepted %d connections, want 1", n)
	}
	if n := f.jumps[1].Connections(); n != 1 {
		t.Errorf("second jump host accepted %d connections, want 1", n)
	}
	if n := len(f.jumps[1].Forwards()); n != 8 {
		t.Errorf("second jump host forwarded %d connections, want 8", n)
	}
}

func TestJumpHostKeyUnknown(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	writeLocal(t, f.knownHosts, f.srv.KnownHostsLine()+"\n")
	f.cfg.HostKeys = loadKnownHosts(t, f.knownHosts, false)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrHostKeyUnknown)
	wantContains(t, err, "jump host jump1", f.jumps[0].Addr())
}

func TestJumpHostKeyAcceptedWhenNew(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	writeLocal(t, f.knownHosts, "")
	f.cfg.HostKeys = loadKnownHosts(t, f.knownHosts, true)

	f.dial(t)

	content := readLocal(t, f.knownHosts)
	for _, srv := range []*sshtest.Server{f.jumps[0], f.srv} {
		if !strings.Contains(content, srv.KnownHostsLine()) {
			t.Errorf("known_hosts lacks %q:\n%s", srv.KnownHostsLine(), content)
		}
	}
}

func TestJumpHostKeyChanged(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.jumps[0].ChangeHostKey(t)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrHostKeyChanged)
}

func TestJumpHostUnreachable(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.cfg.Jumps[0].Port = closedPort(t)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrUnreachable)
	wantContains(t, err, "connect test-host", "jump host jump1", "refused")
}

func TestJumpHostAuthRejected(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.jumps[0].RejectAuth(true)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrAuth)
	wantContains(t, err, "jump host jump1")
}

func TestJumpTargetRefused(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.cfg.Port = closedPort(t)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrUnreachable)
	wantContains(t, err, "through jump1")
}

func TestJumpHostTimeout(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.jumps[0].Silence(true)
	f.cfg.ConnectTimeout = 300 * time.Millisecond

	start := time.Now()
	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrTimeout)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Dial took %v, want about the connect timeout", elapsed)
	}
}

func TestJumpHostContextCanceled(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.jumps[0].Silence(true)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)

	_, err := Dial(ctx, f.cfg)

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestBastionsReopenLostConnection(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	first := f.dial(t)
	run(t, first, "true", nil)

	f.jumps[0].DropConnections()
	waitFor(t, func() bool {
		_, err := first.Run(context.Background(), "true", nil)
		return errors.Is(err, ErrUnreachable)
	})
	// The shared connection to the jump host may not be seen lost yet, which the
	// Dial must handle by opening it again.
	second := f.dial(t)
	run(t, second, "true", nil)

	if n := f.jumps[0].Connections(); n != 2 {
		t.Errorf("jump host accepted %d connections, want 2", n)
	}
}

func TestBastionsCloseWhenIdle(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.cfg.Bastions.linger = 50 * time.Millisecond
	c := f.dial(t)
	run(t, c, "true", nil)

	c.Close()

	waitFor(t, func() bool { return bastionCount(f.cfg.Bastions) == 0 })
}

func TestBastionsLingerForNextHost(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	first := f.dial(t)
	first.Close()

	second := f.dial(t)
	run(t, second, "true", nil)

	if n := f.jumps[0].Connections(); n != 1 {
		t.Errorf("jump host accepted %d connections, want 1", n)
	}
}

func TestBastionsClose(t *testing.T) {
	t.Parallel()
	f := newJumpFixture(t, 1)
	f.dial(t).Close()

	f.cfg.Bastions.Close()

	if n := bastionCount(f.cfg.Bastions); n != 0 {
		t.Errorf("%d jump host connections open after Close, want 0", n)
	}
}

// closedPort returns a loopback port that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// bastionCount returns how many jump host connections b holds.
func bastionCount(b *Bastions) int {
	b.mu.Lock()
	defer b.mu.Unlock()

	return len(b.entries)
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
