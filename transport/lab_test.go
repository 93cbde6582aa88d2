//go:build lab

package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The lab tests run against the real Debian hosts of test/lab. Set
// FLEETHARDEN_LAB to the lab's state directory, which contains
// inventory.yaml, known_hosts, id_ed25519 and become-pass. Each host has the
// users fleet, with passwordless sudo, and fleetpw, whose sudo requires the
// password in become-pass.

// labHost is one host of the lab inventory.
type labHost struct {
	Name    string
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
}

// lab is the state directory of a running lab.
type lab struct {
	dir      string
	hosts    []labHost
	password []byte
	known    *KnownHosts
}

// openLab reads the lab state, or skips the test when FLEETHARDEN_LAB is
// not set.
func openLab(t *testing.T) *lab {
	t.Helper()

	dir := os.Getenv("FLEETHARDEN_LAB")
	if dir == "" {
		t.Skip("FLEETHARDEN_LAB is not set; it names the state directory of a running lab")
	}

	var inv struct {
		Groups map[string]struct {
			Hosts map[string]labHost `yaml:"hosts"`
		} `yaml:"groups"`
	}
	inventory := readLocal(t, filepath.Join(dir, "inventory.yaml"))
	if err := yaml.Unmarshal([]byte(inventory), &inv); err != nil {
		t.Fatalf("parse lab inventory: %v", err)
	}

	l := &lab{dir: dir, known: loadKnownHosts(t, filepath.Join(dir, "known_hosts"), false)}
	for name, h := range inv.Groups["lab"].Hosts {
		h.Name = name
		l.hosts = append(l.hosts, h)
	}
	if len(l.hosts) == 0 {
		t.Fatalf("lab inventory in %s lists no hosts under groups.lab.hosts", dir)
	}
	sort.Slice(l.hosts, func(i, j int) bool { return l.hosts[i].Name < l.hosts[j].Name })

	l.password = bytes.TrimRight([]byte(readLocal(t, filepath.Join(dir, "become-pass"))), "\n")
	return l
}

// config returns a Config that logs in to h as user with Become.
func (l *lab) config(h labHost, user string, password []byte) Config {
	return Config{
		Name:           h.Name,
		Address:        h.Address,
		Port:           h.Port,
		User:           user,
		IdentityFiles:  []string{filepath.Join(l.dir, "id_ed25519")},
		HostKeys:       l.known,
		ConnectTimeout: 10 * time.Second,
		Become:         true,
		BecomePassword: password,
	}
}

// dial connects and closes the client when the test ends.
func (l *lab) dial(t *testing.T, cfg Config) *Client {
	t.Helper()

	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial %s as %s: %v", cfg.Name, cfg.User, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// becomeUsers are the two ways to reach root on a lab host.
func (l *lab) becomeUsers() []struct {
	user     string
	password []byte
} {
	return []struct {
		user     string
		password []byte
	}{
		{"fleet", nil},
		{"fleetpw", l.password},
	}
}

func TestLabBecomeRunsAsRoot(t *testing.T) {
	l := openLab(t)
	for _, u := range l.becomeUsers() {
		t.Run(u.user, func(t *testing.T) {
			c := l.dial(t, l.config(l.hosts[0], u.user, u.password))

			res := run(t, c, "id -un; echo \"$LC_ALL\"", nil)
			if got := string(res.Stdout); got != "root\nC\n" {
				t.Errorf("stdout = %q, want %q", got, "root\nC\n")
			}

			stdin := []byte("first line\nsecond line\n")
			res = run(t, c, "cat", stdin)
			if !bytes.Equal(res.Stdout, stdin) {
				t.Errorf("cat returned %q, want exactly the stdin %q", res.Stdout, stdin)
			}

			res = run(t, c, "echo oops >&2; exit 7", nil)
			if res.ExitCode != 7 || string(res.Stderr) != "oops\n" {
				t.Errorf("exit %d, stderr %q, want 7 and %q", res.ExitCode, res.Stderr, "oops\n")
			}
		})
	}
}

func TestLabBecomePasswordExtraForNopasswd(t *testing.T) {
	l := openLab(t)
	// fleet needs no password, so the one given must not reach the command.
	c := l.dial(t, l.config(l.hosts[0], "fleet", []byte("unused-password")))

	res := run(t, c, "cat", []byte("data"))

	if got := string(res.Stdout); got != "data" {
		t.Errorf("cat returned %q, want %q", got, "data")
	}
}

func TestLabBecomeWrongPassword(t *testing.T) {
	l := openLab(t)
	wrong := []byte("not-the-password")

	_, err := Dial(context.Background(), l.config(l.hosts[0], "fleetpw", wrong))

	wantErr(t, err, ErrBecome)
	wantContains(t, err, "incorrect password")
	if strings.Contains(err.Error(), string(wrong)) {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestLabBecomeMissingPassword(t *testing.T) {
	l := openLab(t)

	_, err := Dial(context.Background(), l.config(l.hosts[0], "fleetpw", nil))

	wantErr(t, err, ErrBecome)
	wantContains(t, err, "--ask-become-pass", "--become-pass-file")
}

func TestLabWriteRootFileUnderEtc(t *testing.T) {
	l := openLab(t)
	for _, u := range l.becomeUsers() {
		t.Run(u.user, func(t *testing.T) {
			c := l.dial(t, l.config(l.hosts[0], u.user, u.password))
			ctx := context.Background()
			dir := "/etc/fleetharden-transport-test-" + u.user
			path := dir + "/sub/test.conf"
			t.Cleanup(func() { c.Run(ctx, "rm -rf "+shellQuote(dir), nil) })

			meta := FileMeta{Mode: 0o640, UID: 0, GID: 0}
			if err := c.WriteFile(ctx, path, []byte("key = value\n"), meta); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}

			res := run(t, c, "stat -c '%U %G %a' "+path+" "+dir+"/sub; ls -A "+dir+"/sub", nil)
			want := "root root 640\nroot root 755\ntest.conf\n"
			if got := string(res.Stdout); got != want {
				t.Errorf("stat and ls = %q, want %q", got, want)
			}

			got, err := c.ReadFile(ctx, path)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if string(got.Data) != "key = value\n" || got.Meta != meta {
				t.Errorf("ReadFile = %q %+v, want the written file", got.Data, got.Meta)
			}

			if err := c.Remove(ctx, path); err != nil {
				t.Errorf("Remove: %v", err)
			}
			_, err = c.ReadFile(ctx, "/etc/shadow-missing-fleetharden")
			wantErr(t, err, os.ErrNotExist)
		})
	}
}

func TestLabReadRootOnlyFile(t *testing.T) {
	l := openLab(t)
	c := l.dial(t, l.config(l.hosts[0], "fleetpw", l.password))

	got, err := c.ReadFile(context.Background(), "/etc/shadow")
	if err != nil {
		t.Fatalf("ReadFile /etc/shadow through sudo: %v", err)
	}

	if !bytes.HasPrefix(got.Data, []byte("root:")) {
		t.Errorf("/etc/shadow starts with %q", got.Data[:min(len(got.Data), 5)])
	}
	if got.Meta.UID != 0 {
		t.Errorf("owner uid = %d, want 0", got.Meta.UID)
	}
}

// TestLabPasswordNotVisible checks the process list and the process
// environments on the host while a command and the SFTP server run with the
// sudo password.
func TestLabPasswordNotVisible(t *testing.T) {
	l := openLab(t)
	host := l.hosts[0]
	withPassword := l.dial(t, l.config(host, "fleetpw", l.password))
	observer := l.dial(t, l.config(host, "fleet", nil))
	ctx := context.Background()

	if err := withPassword.WriteFile(ctx, "/tmp/fleetharden-sftp-open", nil,
		FileMeta{Mode: 0o600, UID: 0, GID: 0}); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := withPassword.Run(ctx, "sleep 3", nil); err != nil {
			t.Errorf("Run sleep: %v", err)
		}
	}()
	time.Sleep(time.Second)

	res := run(t, observer, "ps -eo args; cat /proc/[0-9]*/environ 2>/dev/null", nil)
	wg.Wait()

	if !bytes.Contains(res.Stdout, []byte("sleep 3")) {
		t.Errorf("ps output lacks the running command:\n%s", res.Stdout)
	}
	if !bytes.Contains(res.Stdout, []byte("sftp-server")) {
		t.Errorf("ps output lacks the sftp-server:\n%s", res.Stdout)
	}
	if bytes.Contains(res.Stdout, l.password) {
		t.Error("the sudo password appears in the process list or a process environment")
	}
}

func TestLabAllHostsConcurrently(t *testing.T) {
	l := openLab(t)
	var wg sync.WaitGroup
	errs := make(chan error, len(l.hosts))
	for _, h := range l.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- checkHost(l, h)
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// checkHost runs a command and a file round trip on h.
func checkHost(l *lab, h labHost) error {
	ctx := context.Background()
	c, err := Dial(ctx, l.config(h, "fleet", nil))
	if err != nil {
		return err
	}
	defer c.Close()

	res, err := c.Run(ctx, "test -d /etc/docker && echo ok", nil)
	if err != nil {
		return err
	}
	if string(res.Stdout) != "ok\n" {
		return fmt.Errorf("%s: /etc/docker check printed %q", h.Name, res.Stdout)
	}

	_, err = c.ReadFile(ctx, "/etc/hostname")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	return nil
}

func TestLabShellCancelKillsCommand(t *testing.T) {
	l := openLab(t)
	for _, u := range l.becomeUsers() {
		t.Run(u.user, func(t *testing.T) {
			c := l.dial(t, l.config(l.hosts[0], u.user, u.password))
			release, err := c.Lock(context.Background(), "/run/lock/fleetharden-cancel-test.lock",
				"cancel test", time.Second)
			if err != nil {
				t.Fatalf("Lock: %v", err)
			}
			defer release()
			tag := fmt.Sprintf("%d", time.Now().UnixNano())
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()

			// The command's own process, and processes that it started, one and two
			// levels down.
			_, err = c.Run(ctx, "sleep 300 "+tag+" & sh -c 'sleep 301 "+tag+"; true'; true", nil)

			wantErr(t, err, context.DeadlineExceeded)
			res := run(t, c, "sleep 0.2; pgrep -a -f '[s]leep 30[01] "+tag+"' || echo gone", nil)
			if got := string(res.Stdout); got != "gone\n" {
				t.Errorf("the cancelled command's processes still run: pgrep printed %q", got)
			}
			// The shell that holds the lock survived the signal.
			other := l.dial(t, l.config(l.hosts[0], u.user, u.password))
			_, err = other.Lock(context.Background(), "/run/lock/fleetharden-cancel-test.lock",
				"second", time.Second)
			wantErr(t, err, ErrLocked)
		})
	}
}

func TestLabLockReleasedWhenConnectionDies(t *testing.T) {
	l := openLab(t)
	cfg := l.config(l.hosts[0], "fleet", nil)
	path := "/run/lock/fleetharden-conn-test.lock"
	first := l.dial(t, cfg)
	if _, err := first.Lock(context.Background(), path, "first", time.Second); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	// A command that outlives the connection, as when the controller is killed.
	go first.Run(context.Background(), "sleep 60", nil)
	time.Sleep(500 * time.Millisecond)
	first.conn.Close()

	second := l.dial(t, cfg)
	start := time.Now()
	release, err := second.Lock(context.Background(), path, "second", 10*time.Second)

	if err != nil {
		t.Fatalf("Lock after the first connection died: %v", err)
	}
	release()
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the lock came free after %v, want a few seconds at most", waited)
	}
	run(t, second, "pkill -f '^sleep 60$' || true", nil)
}

func TestLabLockOutlivesKilledShell(t *testing.T) {
	l := openLab(t)
	cfg := l.config(l.hosts[0], "fleet", nil)
	path := "/run/lock/fleetharden-shell-test.lock"
	c := l.dial(t, cfg)
	release, err := c.Lock(context.Background(), path, "first", time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}

	_, err = c.Run(context.Background(), "kill -KILL $PPID", nil)
	wantErr(t, err, errShellEnded)

	// Later commands run through sudo sessions, still under the lock.
	if res := run(t, c, "id -un", nil); string(res.Stdout) != "root\n" {
		t.Errorf("the command after the shell ended printed %q", res.Stdout)
	}
	other := l.dial(t, cfg)
	_, err = other.Lock(context.Background(), path, "second", time.Second)
	wantErr(t, err, ErrLocked)
	release()
}
