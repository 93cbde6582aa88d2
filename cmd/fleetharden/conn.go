package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetharden/fleetharden/internal/inputfile"
	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/runner"
	"github.com/fleetharden/fleetharden/transport"
)

// proxyJumpVar is the inventory variable that sets a host's jump hosts, in
// the syntax of OpenSSH's ProxyJump.
const proxyJumpVar = "proxy_jump"

// inventoryDefaultPort is the port the inventory gives a host that sets none.
const inventoryDefaultPort = 22

// connFlags are the SSH and sudo flags shared by every command that contacts hosts.
type connFlags struct {
	knownHosts     string
	acceptNewKeys  bool
	askBecomePass  bool
	becomePassFile string
	connectTimeout time.Duration
	noAgent        bool
	sshConfig      string
}

func (f *connFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.knownHosts, "known-hosts", "", "OpenSSH known_hosts file that host keys "+
		"are checked against (default: UserKnownHostsFile of the ssh config, else "+
		"~/.ssh/known_hosts)")
	fl.BoolVar(&f.acceptNewKeys, "accept-new-host-keys", false, "record the keys of hosts "+
		"and jump hosts not yet in known_hosts; a changed key is rejected all the same")
	fl.BoolVar(&f.askBecomePass, "ask-become-pass", false, "ask once for the sudo password")
	fl.StringVar(&f.becomePassFile, "become-pass-file", "", "read the sudo password from "+
		"this file, for scheduled runs (keep it mode 0600)")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second,
		"time limit for connecting and logging in to one host, through its jump hosts; "+
			"unless given, ConnectTimeout of the ssh config wins")
	fl.BoolVar(&f.noAgent, "no-agent", false, "do not use ssh-agent keys")
	fl.StringVarP(&f.sshConfig, "ssh-config", "F", "", "OpenSSH client config file, or "+
		"none (default ~/.ssh/config, then /etc/ssh/ssh_config)")
}

// dialer checks the flags, reads the secrets they name and returns how to connect to hosts.
func (f *connFlags) dialer(cmd *cobra.Command) (runner.Dialer, error) {
	c, err := f.connector(cmd)
	if err != nil {
		return nil, err
	}

	return c.dial, nil
}

// connector checks the flags, reads the ssh config and the secrets the
// flags name, and returns what connects to hosts.
func (f *connFlags) connector(cmd *cobra.Command) (*connector, error) {
	if f.askBecomePass && f.becomePassFile != "" {
		return nil, badInput(fmt.Errorf("--ask-become-pass and --become-pass-file " +
			"exclude each other: use one"))
	}

	c, err := newConnector(f, cmd.Flags().Changed("connect-timeout"))
	if err != nil {
		return nil, badInput(err)
	}
	c.logger = loggerFrom(cmd.Context())

	c.password, err = f.becomePassword(cmd)
	if err != nil {
		return nil, badInput(err)
	}

	p := newPrompter(cmd)
	c.phrases = transport.NewPassphrases(func(keyFile string) ([]byte, error) {
		return p.secret("the passphrase of key "+keyFile, "Passphrase for "+keyFile+": ",
			"load the key into ssh-agent, or use a key without a passphrase")
	})
	return c, nil
}

// becomePassword returns the sudo password from the terminal or the file, or nil.
func (f *connFlags) becomePassword(cmd *cobra.Command) ([]byte, error) {
	switch {
	case f.becomePassFile != "":
		data, err := inputfile.Read(f.becomePassFile)
		if err != nil {
			return nil, fmt.Errorf("read --become-pass-file: %w", err)
		}
		if info, err := os.Stat(f.becomePassFile); err == nil && info.Mode().Perm()&0o077 != 0 {
			loggerFrom(cmd.Context()).Warn(
				"the sudo password file is readable by other users: chmod 600 it",
				"file", f.becomePassFile, "mode", fmt.Sprintf("%04o", info.Mode().Perm()))
		}
		pass := bytes.TrimRight(data, "\r\n")
		if len(pass) == 0 || bytes.ContainsAny(pass, "\r\n") {
			return nil, fmt.Errorf("invalid --become-pass-file %s: it must hold the "+
				"password alone on one line", f.becomePassFile)
		}
		return pass, nil
	case f.askBecomePass:
		return newPrompter(cmd).secret("the sudo password", "sudo password: ",
			"use --become-pass-file")
	}
	return nil, nil
}

// connector turns inventory hosts into SSH connection settings and
// connections. Each setting comes from the inventory, else the ssh config,
// else the flags and OpenSSH's defaults.
type connector struct {
	flags      *connFlags
	timeoutSet bool // --connect-timeout was given, so it wins over the ssh config
	sshConfig  *transport.SSHConfig
	knownHosts *knownHostsFiles
	phrases    *transport.Passphrases
	bastions   *transport.Bastions
	logger     *slog.Logger
	password   []byte
	localUser  string   // the user that the inventory gives a host that sets none
	keys       []string // the default identity files of OpenSSH that exist
}

func newConnector(f *connFlags, timeoutSet bool) (*connector, error) {
	local, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("look up the local user: %w", err)
	}

	c := &connector{flags: f, timeoutSet: timeoutSet, bastions: transport.NewBastions(),
		localUser: local.Username, keys: defaultIdentities()}
	c.sshConfig, err = loadSSHConfig(f.sshConfig)
	if err != nil {
		return nil, err
	}

	c.knownHosts, err = newKnownHostsFiles(f.knownHosts, f.acceptNewKeys)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// loadSSHConfig reads the ssh config that path names: "" for the files ssh
// reads by default, "none" for none.
func loadSSHConfig(path string) (*transport.SSHConfig, error) {
	switch path {
	case "none":
		return nil, nil
	case "":
		return transport.LoadSSHConfig(transport.DefaultSSHConfigFiles()...)
	}

	c, err := transport.LoadSSHConfig(path)
	if err != nil {
		return nil, fmt.Errorf("--ssh-config: %w", err)
	}
	return c, nil
}

// dial connects to h.
func (c *connector) dial(ctx context.Context, h *inventory.Host) (runner.Conn, error) {
	cfg, err := c.config(h)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", h.Name, err)
	}

	return transport.Dial(ctx, cfg)
}

// check resolves the settings of every host, so that a mistake in the ssh
// config or in proxy_jump stops the run before any host is contacted.
func (c *connector) check(hosts []*inventory.Host) error {
	var errs []error
	for _, h := range hosts {
		if _, err := c.config(h); err != nil {
			errs = append(errs, fmt.Errorf("host %s: %w", h.Name, err))
		}
	}

	return errors.Join(errs...)
}

// close closes the connections to jump hosts that are still open.
func (c *connector) close() {
	c.bastions.Close()
}

// config returns the connection settings of h.
func (c *connector) config(h *inventory.Host) (transport.Config, error) {
	ssh, err := c.sshConfig.Lookup(h.Address)
	if err != nil {
		return transport.Config{}, err
	}

	cfg := transport.Config{
		Name: h.Name, Address: cmp.Or(ssh.HostName, h.Address), Port: h.Port, User: h.User,
		IdentityFiles: c.identities(h.KeyFile, ssh.IdentityFiles),
		Agent:         !c.flags.noAgent && !ssh.IdentitiesOnly, Passphrases: c.phrases,
		ConnectTimeout: c.flags.connectTimeout, Become: h.Become, Bastions: c.bastions,
		Logger: c.logger,
	}
	c.applySSHConfig(h, ssh, &cfg)
	if h.Become {
		cfg.BecomePassword = c.password
	}

	cfg.HostKeys, err = c.knownHosts.get(ssh.KnownHostsFiles)
	if err != nil {
		return cfg, err
	}

	cfg.Jumps, err = c.jumps(h, ssh, cfg.IdentityFiles)
	if err != nil {
		return cfg, err
	}
	return cfg, nil
}

// applySSHConfig lets the ssh config set what the inventory left to its
// defaults and the flags left alone.
//
// TODO(inventory): the inventory fills in port 22 and the local user for a
// host that sets neither. It does not report which it filled in, so an
// explicit port 22 or the local user also gives way to the ssh config.
func (c *connector) applySSHConfig(h *inventory.Host, ssh transport.HostSettings,
	cfg *transport.Config) {
	if h.Port == inventoryDefaultPort && ssh.Port != 0 {
		cfg.Port = ssh.Port
	}
	if h.User == c.localUser && ssh.User != "" {
		cfg.User = ssh.User
	}
	if !c.timeoutSet && ssh.ConnectTimeout > 0 {
		cfg.ConnectTimeout = ssh.ConnectTimeout
	}
}

// identities returns the private keys to try: the inventory's key, else the
// ssh config's IdentityFile, else OpenSSH's default keys that exist.
func (c *connector) identities(inventoryKey string, fromSSHConfig []string) []string {
	switch {
	case inventoryKey != "":
		return []string{inventoryKey}
	case len(fromSSHConfig) > 0:
		return fromSSHConfig
	default:
		return c.keys
	}
}

// jumps returns the jump hosts of h: the inventory variable proxy_jump, else
// ProxyJump of the ssh config. A jump host that the ssh config gives no
// IdentityFile is tried with the keys of h and then the default keys.
func (c *connector) jumps(h *inventory.Host, ssh transport.HostSettings,
	keys []string) ([]transport.Jump, error) {
	value := ssh.ProxyJump
	if v, ok := h.Vars[proxyJumpVar]; ok {
		s, isString := v.(string)
		if !isString {
			return nil, fmt.Errorf("variable %s is %v, want a string such as "+
				`"bastion" or "jump1,admin@jump2:2222"`, proxyJumpVar, v)
		}
		value = s
	}

	defaults := transport.JumpDefaults{User: c.localUser,
		IdentityFiles: appendMissing(keys, c.keys)}
	return c.sshConfig.Jumps(value, defaults)
}

// appendMissing returns list followed by the items of more it lacks.
func appendMissing(list, more []string) []string {
	out := append([]string(nil), list...)
	for _, item := range more {
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}

// knownHostsFiles loads each known_hosts file once per run and shares it
// among the hosts that use it, so keys accepted for one host are known to
// the others.
type knownHostsFiles struct {
	flag      string // --known-hosts, which wins over the ssh config
	fallback  string // ~/.ssh/known_hosts
	acceptNew bool

	mu    sync.Mutex
	files map[string]*transport.KnownHosts
}

// newKnownHostsFiles loads the file of --known-hosts or else the default
// one, so that a broken file stops the command before any host is contacted.
func newKnownHostsFiles(flag string, acceptNew bool) (*knownHostsFiles, error) {
	k := &knownHostsFiles{flag: flag, acceptNew: acceptNew,
		files: map[string]*transport.KnownHosts{}}
	if flag == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("find ~/.ssh/known_hosts: %w; name a file with "+
				"--known-hosts", err)
		}
		k.fallback = filepath.Join(home, ".ssh", "known_hosts")
	}

	if _, err := k.get(nil); err != nil {
		return nil, err
	}
	return k, nil
}

// get returns the known_hosts of a host whose ssh config lists fromSSHConfig
// as UserKnownHostsFile. Only the first of those files is read and written.
func (k *knownHostsFiles) get(fromSSHConfig []string) (*transport.KnownHosts, error) {
	path := k.flag
	if path == "" && len(fromSSHConfig) > 0 {
		path = fromSSHConfig[0]
	}
	path = cmp.Or(path, k.fallback)

	k.mu.Lock()
	defer k.mu.Unlock()
	if known, ok := k.files[path]; ok {
		return known, nil
	}

	known, err := transport.LoadKnownHosts(path, k.acceptNew)
	if err != nil {
		return nil, err
	}
	k.files[path] = known
	return known, nil
}

// defaultIdentities returns the private keys OpenSSH tries by default that exist.
func defaultIdentities() []string {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil
	}
	var files []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	return files
}

// terminal reads secrets from a terminal. Tests replace it to stand in for one.
var terminal = struct {
	isTerminal   func(fd int) bool
	readPassword func(fd int) ([]byte, error)
}{term.IsTerminal, term.ReadPassword}

// prompter asks for secrets on the terminal, one question at a time, without echo.
type prompter struct {
	mu  sync.Mutex
	in  io.Reader
	out io.Writer
}

func newPrompter(cmd *cobra.Command) *prompter {
	return &prompter{in: cmd.InOrStdin(), out: cmd.ErrOrStderr()}
}

// secret asks question and reads the answer without echo. what names the
// secret in errors, and hint says how to do without the prompt. It fails at
// once when standard input is not a terminal, so scheduled runs never wait.
func (p *prompter) secret(what, question, hint string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	f, ok := p.in.(*os.File)
	if !ok || !terminal.isTerminal(int(f.Fd())) {
		return nil, fmt.Errorf("cannot ask for %s: standard input is not a terminal; %s",
			what, hint)
	}

	fmt.Fprint(p.out, question)
	secret, err := terminal.readPassword(int(f.Fd()))
	fmt.Fprintln(p.out)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return secret, nil
}
