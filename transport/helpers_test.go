package transport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/transport/sshtest"
)

// fixture is a test server with an authorized key and a known_hosts file
// that lists it.
type fixture struct {
	srv          *sshtest.Server
	keyFile      string
	knownHosts   string
	cfg          Config
	fakeSudoLog  string
	sudoPassword string
}

// newFixture starts a server and returns a Config that reaches it.
func newFixture(t *testing.T) *fixture {
	t.Helper()

	srv := sshtest.Start(t)
	keyFile, pub := sshtest.NewClientKey(t, nil)
	srv.Authorize(pub)

	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	writeLocal(t, knownHosts, srv.KnownHostsLine()+"\n")

	f := &fixture{srv: srv, keyFile: keyFile, knownHosts: knownHosts}
	f.cfg = Config{
		Name:           "test-host",
		Address:        srv.Host(),
		Port:           srv.Port(),
		User:           "tester",
		IdentityFiles:  []string{keyFile},
		HostKeys:       loadKnownHosts(t, knownHosts, false),
		ConnectTimeout: 5 * time.Second,
	}
	return f
}

// withFakeSudo puts the stand-in sudo on the server's PATH, requiring
// password unless it is empty, and sets Become.
func (f *fixture) withFakeSudo(t *testing.T, password string, env ...string) {
	t.Helper()

	bin, err := filepath.Abs("testdata/fakesudo")
	if err != nil {
		t.Fatal(err)
	}

	f.fakeSudoLog = filepath.Join(t.TempDir(), "sudo.log")
	f.sudoPassword = password
	env = append(env, "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_SUDO_PASSWORD="+password,
		"FAKE_SUDO_LOG="+f.fakeSudoLog)
	f.srv.SetEnv(env...)
	f.cfg.Become = true
}

// dial connects with the fixture's Config and closes the client when the
// test ends.
func (f *fixture) dial(t *testing.T) *Client {
	t.Helper()

	c, err := Dial(context.Background(), f.cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs cmd and fails the test on a transport error.
func run(t *testing.T, c *Client, cmd string, stdin []byte) Result {
	t.Helper()

	res, err := c.Run(context.Background(), cmd, stdin)
	if err != nil {
		t.Fatalf("Run(%q): %v", cmd, err)
	}
	return res
}

func loadKnownHosts(t *testing.T, path string, acceptNew bool) *KnownHosts {
	t.Helper()

	k, err := LoadKnownHosts(path, acceptNew)
	if err != nil {
		t.Fatalf("LoadKnownHosts: %v", err)
	}
	return k
}

func writeLocal(t *testing.T, path, content string) {
	t.Helper()

	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readLocal(t *testing.T, path string) string {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// wantErr fails the test unless err wraps target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()

	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one that wraps %q", err, target)
	}
}

// wantContains fails the test unless err's message contains each part.
func wantContains(t *testing.T, err error, parts ...string) {
	t.Helper()

	for _, part := range parts {
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("error = %v, want it to contain %q", err, part)
		}
	}
}
