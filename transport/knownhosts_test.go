package transport

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestDialUnknownHostRejected(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "missing", "known_hosts")
	f.cfg.HostKeys = loadKnownHosts(t, path, false)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrHostKeyUnknown)
	key := f.srv.HostKey()
	wantContains(t, err, "ssh-ed25519", ssh.FingerprintSHA256(key),
		"--accept-new-host-keys", fmt.Sprintf("[127.0.0.1]:%d", f.srv.Port()))
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Errorf("known_hosts was created without acceptNew: stat error %v", statErr)
	}
}

func TestDialAcceptNewWritesKey(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	f.cfg.HostKeys = loadKnownHosts(t, path, true)

	f.dial(t)

	want := knownhosts.Line([]string{fmt.Sprintf("[127.0.0.1]:%d", f.srv.Port())},
		f.srv.HostKey()) + "\n"
	if got := readLocal(t, path); got != want {
		t.Errorf("known_hosts = %q, want %q", got, want)
	}
	assertMode(t, path, 0o600)
	assertMode(t, filepath.Dir(path), 0o700|os.ModeDir)

	// The same KnownHosts accepts the host again without a second line.
	f.dial(t)
	if got := readLocal(t, path); got != want {
		t.Errorf("known_hosts after second dial = %q, want %q", got, want)
	}

	// A later run reads the key from the file.
	f.cfg.HostKeys = loadKnownHosts(t, path, false)
	f.dial(t)
}

func TestDialAcceptNewConcurrentOneLine(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "known_hosts")
	writeLocal(t, path, "# no newline at the end")
	f.cfg.HostKeys = loadKnownHosts(t, path, true)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(context.Background(), f.cfg)
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("Dial: %v", err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(readLocal(t, path), "\n"), "\n")
	if len(lines) != 2 || lines[0] != "# no newline at the end" {
		t.Errorf("known_hosts lines = %q, want the comment and one key line", lines)
	}
}

func TestDialChangedKeyRejected(t *testing.T) {
	f := newFixture(t)
	f.cfg.HostKeys = loadKnownHosts(t, f.knownHosts, true)
	oldKey := f.srv.HostKey()
	newKey := f.srv.ChangeHostKey(t)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrHostKeyChanged)
	wantContains(t, err, ssh.FingerprintSHA256(newKey), ssh.FingerprintSHA256(oldKey),
		f.knownHosts+":1")
	if got := readLocal(t, f.knownHosts); got != f.srv.KnownHostsLineFor(oldKey)+"\n" {
		t.Errorf("known_hosts changed to %q", got)
	}
}

func TestDialChangedKeyAfterAcceptRejected(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "known_hosts")
	writeLocal(t, path, "# first line\n")
	f.cfg.HostKeys = loadKnownHosts(t, path, true)
	f.dial(t)
	f.srv.ChangeHostKey(t)

	_, err := Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrHostKeyChanged)
	wantContains(t, err, path+":2")
}

func TestDialHashedKnownHost(t *testing.T) {
	f := newFixture(t)
	host := knownhosts.HashHostname(knownhosts.Normalize(f.srv.Addr()))
	writeLocal(t, f.knownHosts, knownhosts.Line([]string{host}, f.srv.HostKey())+"\n")
	f.cfg.HostKeys = loadKnownHosts(t, f.knownHosts, false)

	f.dial(t)
}

func TestDialKnownKeyTypeMissing(t *testing.T) {
	f := newFixture(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	writeLocal(t, f.knownHosts, f.srv.KnownHostsLineFor(rsaPub)+"\n")
	f.cfg.HostKeys = loadKnownHosts(t, f.knownHosts, true)

	_, err = Dial(context.Background(), f.cfg)

	wantErr(t, err, ErrHostKeyChanged)
	wantContains(t, err, "rsa-sha2-512")
}

func TestAlgorithmsForKeys(t *testing.T) {
	f := newFixture(t)
	hk := loadKnownHosts(t, f.knownHosts, false)

	got := hk.algorithms(f.srv.Addr())

	if len(got) != 1 || got[0] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms = %q, want [%s]", got, ssh.KeyAlgoED25519)
	}
	if other := hk.algorithms("192.0.2.1:22"); other != nil {
		t.Errorf("algorithms of an unknown host = %q, want nil", other)
	}
}

func TestLoadKnownHostsInvalidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	writeLocal(t, path, "this is not a known_hosts line\n")

	_, err := LoadKnownHosts(path, false)

	wantContains(t, err, path)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode(); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

func TestAlgorithmsForKeysOrder(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)

	got := algorithmsForKeys([]ssh.PublicKey{rsaPub, f.srv.HostKey(), rsaPub})

	want := []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256,
		ssh.KeyAlgoRSA}
	if !slices.Equal(got, want) {
		t.Errorf("algorithms = %q, want %q", got, want)
	}
}
