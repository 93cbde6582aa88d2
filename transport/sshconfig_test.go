package transport

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSSHConfig = `
# Bastions and the fleet behind them.
Host bastion
    HostName 127.0.0.1
    Port 2222
    User jumper
    IdentityFile ~/.ssh/bastion_key

Host web? !web9
    HostName %h.internal.example
    ProxyJump bastion
    IdentityFile keys/%r@%h
    IdentitiesOnly yes

Host web*
    User deploy
    Port 2200
    ConnectTimeout 7
    UserKnownHostsFile ~/.ssh/fleet_known_hosts /etc/ssh/other_known_hosts

Match host db*
    User dba

Host *
    User everyone
    IdentityFile ~/.ssh/id_fleet
`

// testKeys are the identity files of testSSHConfig, relative to the home
// directory.
var testKeys = []string{".ssh/bastion_key", ".ssh/keys/deploy@web1.internal.example",
	".ssh/id_fleet"}

// parseTestConfig parses text with a fresh home directory that holds testKeys.
func parseTestConfig(t *testing.T, text string) *SSHConfig {
	t.Helper()

	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, key := range testKeys {
		path := filepath.Join(home, key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		writeLocal(t, path, "key\n")
	}

	c, err := ParseSSHConfig("test_config", []byte(text))
	if err != nil {
		t.Fatalf("ParseSSHConfig: %v", err)
	}
	return c
}

func TestSSHConfigLookup(t *testing.T) {
	c := parseTestConfig(t, testSSHConfig)
	home := c.home

	got, err := c.Lookup("web1")
	if err != nil {
		t.Fatal(err)
	}

	want := HostSettings{
		HostName: "web1.internal.example",
		User:     "deploy",
		Port:     2200,
		IdentityFiles: []string{
			filepath.Join(home, ".ssh", "keys", "deploy@web1.internal.example"),
			filepath.Join(home, ".ssh", "id_fleet"),
		},
		IdentitiesOnly:  true,
		ProxyJump:       "bastion",
		KnownHostsFiles: []string{home + "/.ssh/fleet_known_hosts", "/etc/ssh/other_known_hosts"},
		ConnectTimeout:  7 * time.Second,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lookup(web1) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestSSHConfigNegatedPattern(t *testing.T) {
	c := parseTestConfig(t, testSSHConfig)

	got, err := c.Lookup("web9")
	if err != nil {
		t.Fatal(err)
	}

	if got.HostName != "" || got.ProxyJump != "" {
		t.Errorf("web9 got HostName %q and ProxyJump %q, want neither", got.HostName,
			got.ProxyJump)
	}
	if got.User != "deploy" {
		t.Errorf("web9 User = %q, want deploy", got.User)
	}
}

func TestSSHConfigMatchHost(t *testing.T) {
	c := parseTestConfig(t, testSSHConfig)

	got, err := c.Lookup("DB1")
	if err != nil {
		t.Fatal(err)
	}

	if got.User != "dba" {
		t.Errorf("User = %q, want dba from Match host db*", got.User)
	}
}

func TestSSHConfigFirstFileWins(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "config")
	system := filepath.Join(dir, "ssh_config")
	userKey, systemKey := filepath.Join(dir, "user_key"), filepath.Join(dir, "system_key")
	writeLocal(t, userKey, "key\n")
	writeLocal(t, systemKey, "key\n")
	writeLocal(t, user, "Host *\n  Port 2022\n  IdentityFile "+userKey+
		"\n  IdentityFile /nonexistent/key\n")
	writeLocal(t, system, "Host *\n  Port 22\n  User sys\n  IdentityFile "+systemKey+"\n")

	c, err := LoadSSHConfig(user, system)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Lookup("any")
	if err != nil {
		t.Fatal(err)
	}

	if got.Port != 2022 || got.User != "sys" {
		t.Errorf("Port, User = %d, %q, want 2022, sys", got.Port, got.User)
	}
	if want := []string{userKey, systemKey}; !reflect.DeepEqual(got.IdentityFiles, want) {
		t.Errorf("IdentityFiles = %v, want %v", got.IdentityFiles, want)
	}
	if files := c.Files(); !reflect.DeepEqual(files, []string{user, system}) {
		t.Errorf("Files = %v, want both files", files)
	}
}

func TestSSHConfigNil(t *testing.T) {
	var c *SSHConfig

	got, err := c.Lookup("web1")

	if err != nil || !reflect.DeepEqual(got, HostSettings{}) {
		t.Errorf("Lookup on nil = %+v, %v, want zero settings", got, err)
	}
}

func TestSSHConfigErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"port", "Host *\n  Port http\n", `invalid Port "http"`},
		{"port range", "Host *\n  Port 70000\n", `invalid Port "70000"`},
		{"timeout", "Host *\n  ConnectTimeout soon\n", `invalid ConnectTimeout "soon"`},
		{"identities only", "Host *\n  IdentitiesOnly maybe\n", "IdentitiesOnly"},
		{"token", "Host *\n  IdentityFile ~/.ssh/%C\n", "unsupported token %C"},
		{"lone percent", "Host *\n  IdentityFile key%\n", "lone %"},
		{"hostname token", "Host *\n  HostName %r.example\n", "unsupported token %r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseTestConfig(t, tt.text)

			_, err := c.Lookup("web1")

			wantContains(t, err, tt.want, "web1")
		})
	}
}

func TestSSHConfigParseError(t *testing.T) {
	_, err := ParseSSHConfig("bad_config", []byte("Match exec \"true\"\n  User x\n"))

	wantContains(t, err, "parse ssh config bad_config", "Match Exec")
}

func TestLoadSSHConfigMissing(t *testing.T) {
	_, err := LoadSSHConfig(filepath.Join(t.TempDir(), "nope"))

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want a missing file error", err)
	}
}

func TestParseProxyJump(t *testing.T) {
	tests := []struct {
		value string
		want  []hopSpec
	}{
		{"", nil},
		{"none", nil},
		{"jump", []hopSpec{{host: "jump"}}},
		{"admin@jump:2222", []hopSpec{{user: "admin", host: "jump", port: 2222}}},
		{"a, b@c:23", []hopSpec{{host: "a"}, {user: "b", host: "c", port: 23}}},
		{"ssh://ops@[::1]:2200", []hopSpec{{user: "ops", host: "::1", port: 2200}}},
		{"[fe80::1]", []hopSpec{{host: "fe80::1"}}},
		{"a@b@host", []hopSpec{{user: "a@b", host: "host"}}},
	}
	for _, tt := range tests {
		got, err := parseProxyJump(tt.value)
		if err != nil {
			t.Errorf("parseProxyJump(%q): %v", tt.value, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseProxyJump(%q) = %+v, want %+v", tt.value, got, tt.want)
		}
	}
}

func TestParseProxyJumpInvalid(t *testing.T) {
	for _, value := range []string{"jump,", "@jump", "jump:0", "jump:http", "a b", ":22"} {
		if err := ParseProxyJump(value); err == nil {
			t.Errorf("ParseProxyJump(%q) = nil, want an error", value)
		}
	}
}

func TestSSHConfigJumps(t *testing.T) {
	c := parseTestConfig(t, testSSHConfig)
	home := c.home
	defaults := JumpDefaults{User: "me", IdentityFiles: []string{"/keys/default"}}

	got, err := c.Jumps("bastion,ops@relay:2022", defaults)
	if err != nil {
		t.Fatal(err)
	}

	want := []Jump{
		{Name: "bastion", Address: "127.0.0.1", Port: 2222, User: "jumper",
			IdentityFiles: []string{home + "/.ssh/bastion_key", home + "/.ssh/id_fleet"}},
		{Name: "relay", Address: "relay", Port: 2022, User: "ops",
			IdentityFiles: []string{home + "/.ssh/id_fleet"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Jumps =\n%+v\nwant\n%+v", got, want)
	}
}

func TestSSHConfigJumpsDefaults(t *testing.T) {
	defaults := JumpDefaults{User: "me", IdentityFiles: []string{"/keys/default"}}

	got, err := (*SSHConfig)(nil).Jumps("gate", defaults)
	if err != nil {
		t.Fatal(err)
	}

	want := []Jump{{Name: "gate", Address: "gate", User: "me",
		IdentityFiles: []string{"/keys/default"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Jumps = %+v, want %+v", got, want)
	}
}

func TestSSHConfigJumpsFirstHopChain(t *testing.T) {
	c := parseTestConfig(t, "Host inner\n  ProxyJump outer\nHost second\n  ProxyJump nope\n")

	got, err := c.Jumps("inner,second", JumpDefaults{User: "me"})
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, hop := range got {
		names = append(names, hop.Name)
	}
	if want := "outer inner second"; strings.Join(names, " ") != want {
		t.Errorf("hops = %v, want %s", names, want)
	}
}

func TestSSHConfigJumpsLoop(t *testing.T) {
	c := parseTestConfig(t, "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n")

	_, err := c.Jumps("a", JumpDefaults{User: "me"})

	wantContains(t, err, "more than 8 jump hosts")
}
