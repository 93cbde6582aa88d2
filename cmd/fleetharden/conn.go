package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/runner"
	"github.com/fleetharden/fleetharden/transport"
)

// connFlags are the SSH and sudo flags shared by every command that contacts hosts.
type connFlags struct {
	knownHosts     string
	acceptNewKeys  bool
	askBecomePass  bool
	becomePassFile string
	connectTimeout time.Duration
	noAgent        bool
}

func (f *connFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.knownHosts, "known-hosts", "", "OpenSSH known_hosts file that host keys "+
		"are checked against (default ~/.ssh/known_hosts)")
	fl.BoolVar(&f.acceptNewKeys, "accept-new-host-keys", false, "record the keys of hosts "+
		"not yet in known_hosts; a changed key is rejected all the same")
	fl.BoolVar(&f.askBecomePass, "ask-become-pass", false, "ask once for the sudo password")
	fl.StringVar(&f.becomePassFile, "become-pass-file", "", "read the sudo password from "+
		"this file, for scheduled runs (keep it mode 0600)")
	fl.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second,
		"time limit for connecting and logging in to one host")
	fl.BoolVar(&f.noAgent, "no-agent", false, "do not use ssh-agent keys")
}

// dialer checks the flags, reads the secrets they name and returns how to connect to hosts.
func (f *connFlags) dialer(cmd *cobra.Command) (runner.Dialer, error) {
	if f.askBecomePass && f.becomePassFile != "" {
		return nil, badInput(fmt.Errorf("--ask-become-pass and --become-pass-file " +
			"exclude each other: use one"))
	}
	path, err := f.knownHostsPath()
	if err != nil {
		return nil, badInput(err)
	}
	keys, err := transport.LoadKnownHosts(path, f.acceptNewKeys)
	if err != nil {
		return nil, badInput(err)
	}
	password, err := f.becomePassword(cmd)
	if err != nil {
		return nil, badInput(err)
	}

	prompter := &prompter{in: cmd.InOrStdin(), out: cmd.ErrOrStderr()}
	phrases := transport.NewPassphrases(func(keyFile string) ([]byte, error) {
		return prompter.secret(fmt.Sprintf("Passphrase for %s: ", keyFile))
	})
	dial := func(ctx context.Context, h *inventory.Host) (runner.Conn, error) {
		cfg := transport.Config{
			Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
			Agent: !f.noAgent, Passphrases: phrases, HostKeys: keys,
			ConnectTimeout: f.connectTimeout, Become: h.Become,
		}
		if h.KeyFile != "" {
			cfg.IdentityFiles = []string{h.KeyFile}
		} else {
			cfg.IdentityFiles = defaultIdentities()
		}
		if h.Become {
			cfg.BecomePassword = password
		}
		return transport.Dial(ctx, cfg)
	}
	return dial, nil
}

func (f *connFlags) knownHostsPath() (string, error) {
	if f.knownHosts != "" {
		return f.knownHosts, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find ~/.ssh/known_hosts: %w; name a file with --known-hosts", err)
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}

// becomePassword returns the sudo password from the terminal or the file, or nil.
func (f *connFlags) becomePassword(cmd *cobra.Command) ([]byte, error) {
	switch {
	case f.becomePassFile != "":
		data, err := os.ReadFile(f.becomePassFile)
		if err != nil {
			return nil, fmt.Errorf("read --become-pass-file: %w", err)
		}
		pass := bytes.TrimRight(data, "\r\n")
		if len(pass) == 0 || bytes.ContainsAny(pass, "\r\n") {
			return nil, fmt.Errorf("invalid --become-pass-file %s: it must hold the "+
				"password alone on one line", f.becomePassFile)
		}
		return pass, nil
	case f.askBecomePass:
		p := &prompter{in: cmd.InOrStdin(), out: cmd.ErrOrStderr()}
		return p.secret("sudo password: ")
	}
	return nil, nil
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

// prompter asks for secrets on the terminal, one question at a time, without echo.
type prompter struct {
	mu  sync.Mutex
	in  io.Reader
	out io.Writer
}

func (p *prompter) secret(question string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, fmt.Errorf("cannot ask %q: standard input is not a terminal; "+
			"use --become-pass-file or an unencrypted key in ssh-agent", question)
	}
	fmt.Fprint(p.out, question)
	secret, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(p.out)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", question, err)
	}
	return secret, nil
}
