package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestPassphraseAskedOncePerRun(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 3, []byte("open sesame"))
	prompts := stubTerminal(t, "open sesame")

	r := f.check(t, devNull(t))

	wantCode(t, r, exitOK)
	if n := prompts(); n != 1 {
		t.Errorf("asked for the passphrase %d times for 3 hosts, want 1", n)
	}
	if !strings.Contains(r.stderr, "Passphrase for "+f.keyFile) {
		t.Errorf("stderr lacks the prompt:\n%s", r.stderr)
	}
}

func TestPassphraseWithoutTerminal(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 2, []byte("open sesame"))

	r := f.check(t, devNull(t), "--json", "-")

	wantCode(t, r, exitUnreachable)
	want := "cannot ask for the passphrase of key " + f.keyFile +
		": standard input is not a terminal"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("results lack %q:\n%s", want, r.stdout)
	}
}

func TestAskBecomePassWithoutTerminal(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)

	r := f.check(t, devNull(t), "--ask-become-pass")

	wantCode(t, r, exitBadInput)
	want := "cannot ask for the sudo password: standard input is not a terminal; " +
		"use --become-pass-file"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if n := f.servers[0].Connections(); n != 0 {
		t.Errorf("%d connections before the run was rejected, want 0", n)
	}
}

func TestAskBecomePassOnTerminal(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 2, nil)
	prompts := stubTerminal(t, "pw")

	r := f.check(t, devNull(t), "--ask-become-pass")

	wantCode(t, r, exitOK)
	if n := prompts(); n != 1 {
		t.Errorf("asked for the sudo password %d times, want 1", n)
	}
}

// aliasConfig returns an ssh config that maps each name web1, web2... to
// a server of f, with the user and key, so that the inventory needs only
// the names.
func aliasConfig(f *testFleet, extra string) string {
	var b strings.Builder
	for i, srv := range f.servers {
		fmt.Fprintf(&b, "Host web%d\n  HostName %s\n  Port %d\n%s", i+1, srv.Host(),
			srv.Port(), extra)
	}
	fmt.Fprintf(&b, "Host *\n  User tester\n  IdentityFile %s\n", f.keyFile)
	return b.String()
}

func TestSSHConfigAliases(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 2, nil)
	config := f.write(t, "ssh_config", aliasConfig(f, ""))
	f.inventory = f.write(t, "names.yaml", "hosts:\n  web1: {}\n  web2: {}\n")

	r := f.check(t, devNull(t), "-F", config)

	wantCode(t, r, exitOK)
	for _, srv := range f.servers {
		if n := srv.Connections(); n != 1 {
			t.Errorf("server %s accepted %d connections, want 1", srv.Addr(), n)
		}
	}
}

func TestSSHConfigInventoryWins(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)
	config := f.write(t, "ssh_config", "Host *\n  Port 1\n  User nobody-here\n"+
		"  IdentityFile /nonexistent/key\n")

	r := f.check(t, devNull(t), "-F", config)

	wantCode(t, r, exitOK)
}

func TestSSHConfigProxyJump(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 3, nil)
	jump := f.servers[2]
	f.servers = f.servers[:2]
	config := f.write(t, "ssh_config", aliasConfig(f, "  ProxyJump bastion\n")+
		fmt.Sprintf("Host bastion\n  HostName %s\n  Port %d\n", jump.Host(), jump.Port()))
	f.inventory = f.write(t, "names.yaml", "hosts:\n  web1: {}\n  web2: {}\n")

	r := f.check(t, devNull(t), "-F", config)

	wantCode(t, r, exitOK)
	if n := jump.Connections(); n != 1 {
		t.Errorf("jump host accepted %d connections, want 1 shared by both hosts", n)
	}
	if got := jump.Forwards(); len(got) != 2 {
		t.Errorf("jump host forwarded %v, want both hosts", got)
	}
}

func TestProxyJumpVariable(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 2, nil)
	jump, target := f.servers[1], f.servers[0]
	f.inventory = f.write(t, "jump.yaml", fmt.Sprintf("hosts:\n  web1:\n"+
		"    address: %s\n    port: %d\n    user: tester\n    key: %s\n"+
		"    vars: {proxy_jump: \"tester@%s\"}\n", target.Host(), target.Port(), f.keyFile,
		jump.Addr()))

	r := f.check(t, devNull(t))

	wantCode(t, r, exitOK)
	if got := jump.Forwards(); len(got) != 1 || got[0] != target.Addr() {
		t.Errorf("jump host forwarded %v, want [%s]", got, target.Addr())
	}
}

func TestProxyJumpVariableInvalid(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)
	f.inventory = f.write(t, "jump.yaml", fmt.Sprintf("hosts:\n  web1:\n"+
		"    address: 127.0.0.1\n    user: tester\n    key: %s\n"+
		"    vars: {proxy_jump: [a, b]}\n", f.keyFile))

	r := f.check(t, devNull(t))

	wantCode(t, r, exitBadInput)
	if !strings.Contains(r.stderr, "host web1: variable proxy_jump") {
		t.Errorf("stderr lacks the proxy_jump error:\n%s", r.stderr)
	}
}

func TestSSHConfigInvalid(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)
	config := f.write(t, "ssh_config", "Host *\n  ConnectTimeout soon\n")

	r := f.check(t, devNull(t), "-F", config)

	wantCode(t, r, exitBadInput)
	if !strings.Contains(r.stderr, `invalid ConnectTimeout "soon"`) {
		t.Errorf("stderr lacks the ssh config error:\n%s", r.stderr)
	}
	if n := f.servers[0].Connections(); n != 0 {
		t.Errorf("%d connections before the run was rejected, want 0", n)
	}
}

func TestSSHConfigMissingFile(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)

	r := f.check(t, devNull(t), "-F", f.dir+"/nope")

	wantCode(t, r, exitBadInput)
	if !strings.Contains(r.stderr, "--ssh-config: read ssh config") {
		t.Errorf("stderr lacks the missing file:\n%s", r.stderr)
	}
}

func TestSSHConfigKnownHostsFile(t *testing.T) {
	home := cliEnv(t)
	f := newTestFleet(t, 1, nil)
	known := home + "/fleet_known_hosts"
	if err := os.Rename(f.knownHosts, known); err != nil {
		t.Fatal(err)
	}
	config := f.write(t, "ssh_config", "Host *\n  UserKnownHostsFile ~/fleet_known_hosts\n")

	r := runCLI(t, devNull(t), "check", "-i", f.inventory, f.playbook, "-F", config)

	wantCode(t, r, exitOK)
}

func TestDefaultSSHConfigRead(t *testing.T) {
	home := cliEnv(t)
	f := newTestFleet(t, 1, nil)
	if err := os.MkdirAll(home+"/.ssh", 0o700); err != nil {
		t.Fatal(err)
	}
	f.inventory = f.write(t, "names.yaml", "hosts:\n  web1: {}\n")
	if err := os.WriteFile(home+"/.ssh/config", []byte(aliasConfig(f, "")), 0o600); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, devNull(t), "check", "-i", f.inventory, f.playbook,
		"--known-hosts", f.knownHosts)

	wantCode(t, r, exitOK)
}

func TestOpenPasswordFileWarnsInLogFormat(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)
	passFile := f.dir + "/become-pass"
	if err := os.WriteFile(passFile, []byte("pw\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r := f.check(t, devNull(t), "--become-pass-file", passFile, "--log-format", "json")

	var warning string
	for line := range strings.SplitSeq(r.stderr, "\n") {
		if strings.Contains(line, "readable by other users") {
			warning = line
		}
	}
	if !strings.HasPrefix(warning, "{") || !strings.Contains(warning, `"level":"WARN"`) {
		t.Errorf("warning %q is not a JSON record; stderr:\n%s", warning, r.stderr)
	}
}
