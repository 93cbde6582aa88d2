package transport

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fleetharden/fleetharden/transport/sshtest"
)

func TestDialRunsCommand(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)

	res := run(t, c, "echo hello", nil)

	if got := string(res.Stdout); got != "hello\n" {
		t.Errorf("stdout = %q, want %q", got, "hello\n")
	}
	if c.Name() != "test-host" {
		t.Errorf("Name = %q, want %q", c.Name(), "test-host")
	}
}

func TestDialEncryptedKeyAsksOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	keyFile, pub := sshtest.NewClientKey(t, []byte("correct horse"))
	f.srv.Authorize(pub)
	var prompts atomic.Int32
	f.cfg.IdentityFiles = []string{keyFile}
	f.cfg.Passphrases = NewPassphrases(func(file string) ([]byte, error) {
		prompts.Add(1)
		if file != keyFile {
			t.Errorf("prompt for %q, want %q", file, keyFile)
		}
		return []byte("correct horse"), nil
	})

	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(context.Background(), f.cfg)
			if err != nil {
				t.Errorf("Dial: %v", err)
				return
			}
			c.Close()
		}()
	}
	wg.Wait()

	if n := prompts.Load(); n != 1 {
		t.Errorf("prompted %d times, want 1", n)
	}
}

func TestDialWrongPassphrase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	keyFile, pub := sshtest.NewClientKey(t, []byte("right"))
	f.srv.Authorize(pub)
	var prompts atomic.Int32
	f.cfg.IdentityFiles = []string{keyFile}
	f.cfg.Passphrases = NewPassphrases(func(string) ([]byte, error) {
		prompts.Add(1)
		return []byte("wrong"), nil
	})

	for range 2 {
		_, err := Dial(context.Background(), f.cfg)
		wantErr(t, err, ErrAuth)
		wantContains(t, err, keyFile, "incorrect passphrase")
	}
	if n := prompts.Load(); n != 1 {
		t.Errorf("prompted %d times, want 1", n)
	}
}

func TestDialEncryptedKeyWithoutPrompt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	keyFile, _ := sshtest.NewClientKey(t, []byte("secret"))
	f.cfg.IdentityFiles = []string{keyFile}

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrAuth)
	wantContains(t, err, keyFile, "encrypted")
}

func TestDialMissingKeyFile(t *testing.T) {
	f := newFixture(t)
	missing := filepath.Join(t.TempDir(), "id_missing")
	f.cfg.IdentityFiles = []string{missing, f.keyFile}

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrAuth)
	wantContains(t, err, missing, "no such file")
}

func TestDialAuthRejected(t *testing.T) {
	f := newFixture(t)
	f.srv.RejectAuth(true)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrAuth)
	wantContains(t, err, "publickey "+f.keyFile, "test-host")
	if errors.Is(err, ErrUnreachable) {
		t.Errorf("auth failure also wraps ErrUnreachable: %v", err)
	}
}

func TestDialAgentKey(t *testing.T) {
	f := newFixture(t)
	socket := startAgent(t, f)
	t.Setenv("SSH_AUTH_SOCK", socket)
	f.cfg.IdentityFiles = nil
	f.cfg.Agent = true

	c := f.dial(t)

	run(t, c, "true", nil)
}

func TestDialAgentUnset(t *testing.T) {
	f := newFixture(t)
	t.Setenv("SSH_AUTH_SOCK", "")
	f.cfg.IdentityFiles = nil
	f.cfg.Agent = true

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrAuth)
	wantContains(t, err, "SSH_AUTH_SOCK is not set")
}

// startAgent serves an ssh-agent holding a key that the fixture's server
// accepts, and returns its socket path.
func startAgent(t *testing.T, f *fixture) string {
	t.Helper()

	keyFile, pub := sshtest.NewClientKey(t, nil)
	f.srv.Authorize(pub)
	signer, err := loadSigner(keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: rawKey(t, keyFile)}); err != nil {
		t.Fatal(err)
	}
	if got := signer.PublicKey().Marshal(); string(got) != string(pub.Marshal()) {
		t.Fatal("agent key does not match the authorized key")
	}

	socket := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				agent.ServeAgent(keyring, conn)
			}()
		}
	}()
	return socket
}

func rawKey(t *testing.T, keyFile string) any {
	t.Helper()

	key, err := ssh.ParseRawPrivateKey([]byte(readLocal(t, keyFile)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestDialRefused(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.cfg.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	_, err = Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrUnreachable)
	wantContains(t, err, "test-host", "refused")
	if errors.Is(err, ErrTimeout) {
		t.Errorf("refused connection wraps ErrTimeout: %v", err)
	}
}

func TestDialConnectTimeout(t *testing.T) {
	f := newFixture(t)
	f.srv.Silence(true)
	f.cfg.ConnectTimeout = 300 * time.Millisecond

	start := time.Now()
	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrUnreachable)
	wantErr(t, err, ErrTimeout)
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Dial took %v with a 300ms connect timeout", elapsed)
	}
}

func TestDialHandshakeDelayWithinTimeout(t *testing.T) {
	f := newFixture(t)
	f.srv.DelayHandshake(200 * time.Millisecond)

	f.dial(t)
}

func TestDialContextCanceled(t *testing.T) {
	f := newFixture(t)
	f.srv.Silence(true)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)

	start := time.Now()
	_, err := Dial(ctx, f.cfg)

	wantErr(t, err, context.Canceled)
	if errors.Is(err, ErrTimeout) {
		t.Errorf("cancel wraps ErrTimeout: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Dial took %v after cancel", elapsed)
	}
}

func TestDialContextDeadline(t *testing.T) {
	f := newFixture(t)
	f.srv.Silence(true)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	_, err := Dial(ctx, f.cfg)

	wantErr(t, err, context.DeadlineExceeded)
	wantErr(t, err, ErrTimeout)
}

func TestDialConfigRequired(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"address", func(c *Config) { c.Address = "" }, "Address is required"},
		{"user", func(c *Config) { c.User = "" }, "User is required"},
		{"host keys", func(c *Config) { c.HostKeys = nil }, "HostKeys is required"},
		{"port", func(c *Config) { c.Port = 70000 }, "invalid port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Name: "h", Address: "127.0.0.1", User: "u", HostKeys: &KnownHosts{}}
			tt.change(&cfg)

			_, err := Dial(context.Background(), cfg)

			wantContains(t, err, tt.want)
		})
	}
}

func TestClientSharesOneConnection(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	path := filepath.Join(t.TempDir(), "shared")

	for range 5 {
		run(t, c, "true", nil)
		if err := c.WriteFile(context.Background(), path, []byte("x"), testMeta(0o644)); err != nil {
			t.Fatal(err)
		}
	}

	if n := f.srv.Connections(); n != 1 {
		t.Errorf("server accepted %d connections, want 1", n)
	}
}

func TestKeepaliveKeepsConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cfg.keepaliveInterval = 250 * time.Millisecond
	c := f.dial(t)

	time.Sleep(2 * time.Second)

	select {
	case <-c.lost:
		t.Fatalf("connection lost while the server replied to keepalives: %v", c.lostErr)
	default:
	}
	run(t, c, "true", nil)
}

func TestKeepaliveDetectsDeadHost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.cfg.keepaliveInterval = 300 * time.Millisecond
	c := f.dial(t)
	f.srv.IgnoreKeepalives(true)

	select {
	case <-c.lost:
	case <-time.After(10 * f.cfg.keepaliveInterval * keepaliveMaxMissed):
		t.Fatal("connection still up after keepalives went unanswered")
	}

	_, err := c.Run(context.Background(), "true", nil)
	wantErr(t, err, ErrUnreachable)
	wantErr(t, err, ErrTimeout)
	wantContains(t, err, "keepalive")
}

func TestRunAfterConnectionDropped(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	f.srv.DropConnections()
	<-c.lost

	_, err := c.Run(context.Background(), "true", nil)

	wantErr(t, err, ErrUnreachable)
	wantContains(t, err, `run "true"`)
}

func TestRunAfterClose(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	_, err := c.Run(context.Background(), "true", nil)

	wantContains(t, err, "client closed")
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestPassphrasesZeroValue(t *testing.T) {
	var p Passphrases

	_, err := p.Get("/keys/id_ed25519")

	wantContains(t, err, "/keys/id_ed25519", "no passphrase prompt")
}
