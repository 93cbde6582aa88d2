package transport

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// DefaultConnectTimeout bounds TCP connect, handshake and authentication
// when Config.ConnectTimeout is zero.
const DefaultConnectTimeout = 10 * time.Second

// Config is how to reach and log in to one host.
type Config struct {
	Name           string        // inventory name, used in errors
	Address        string        // host name or IP address
	Port           int           // 0 means 22
	User           string        // login user
	IdentityFiles  []string      // private keys to try, in order
	Agent          bool          // also try ssh-agent via SSH_AUTH_SOCK
	Passphrases    *Passphrases  // shared across hosts: prompts once per key file per run
	HostKeys       *KnownHosts   // required
	ConnectTimeout time.Duration // TCP connect + handshake + auth; 0 means 10s
	Become         bool          // run commands and file operations as root via sudo
	BecomePassword []byte        // nil when sudo needs no password
	Jumps          []Jump        // jump hosts to go through, first to last; nil for none
	Bastions       *Bastions     // shared across hosts: one connection per jump host
	Logger         *slog.Logger  // receives a Debug record per command; nil discards

	keepaliveInterval time.Duration // 0 means 15s; tests shorten it
}

// validate reports the first missing required field.
func (cfg *Config) validate() error {
	var missing string
	switch {
	case cfg.Address == "":
		missing = "Address"
	case cfg.User == "":
		missing = "User"
	case cfg.HostKeys == nil:
		missing = "HostKeys"
	case cfg.Port < 0 || cfg.Port > 65535:
		return fmt.Errorf("config of host %s: invalid port %d", cfg.Name, cfg.Port)
	default:
		return nil
	}

	return fmt.Errorf("config of host %s: %s is required", cfg.Name, missing)
}

// addr returns the host:port to dial.
func (cfg *Config) addr() string {
	port := cfg.Port
	if port == 0 {
		port = 22
	}

	return net.JoinHostPort(cfg.Address, strconv.Itoa(port))
}

// connectTimeout returns ConnectTimeout or its default.
func (cfg *Config) connectTimeout() time.Duration {
	if cfg.ConnectTimeout > 0 {
		return cfg.ConnectTimeout
	}

	return DefaultConnectTimeout
}

// logger returns Logger, or a logger that discards every record.
func (cfg *Config) logger() *slog.Logger {
	if cfg.Logger != nil {
		return cfg.Logger
	}

	return slog.New(slog.DiscardHandler)
}
