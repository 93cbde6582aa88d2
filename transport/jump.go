package transport

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// maxJumps bounds a chain of jump hosts, so that ProxyJump settings that
// name each other end in an error instead of a loop.
const maxJumps = 8

// Jump is one jump host (bastion) on the way to a target, as one entry of
// OpenSSH's ProxyJump. Its host key is checked against Config.HostKeys and it
// authenticates with its own identity files and, unless IdentitiesOnly is
// set, the ssh-agent keys when Config.Agent is set.
type Jump struct {
	Name           string   // the hop as written, for messages
	Address        string   // host name or IP address
	Port           int      // 0 means 22
	User           string   // login user
	IdentityFiles  []string // private keys to try, in order
	IdentitiesOnly bool     // ignore ssh-agent keys for this hop
}

// String returns the hop as user@address:port.
func (j Jump) String() string {
	return j.User + "@" + j.addr()
}

func (j Jump) addr() string {
	return net.JoinHostPort(j.Address, strconv.Itoa(cmp.Or(j.Port, 22)))
}

// JumpDefaults are the settings a hop uses when neither its ProxyJump entry nor the
// SSH configuration sets it.
type JumpDefaults struct {
	User          string
	IdentityFiles []string
}

// hopSpec is one parsed entry of a ProxyJump value.
type hopSpec struct {
	user, host string
	port       int
}

// ParseProxyJump checks a ProxyJump value: comma-separated [user@]host[:port]
// entries, with IPv6 addresses in brackets and an optional ssh:// prefix.
// "" and "none" mean no jump host.
func ParseProxyJump(value string) error {
	_, err := parseProxyJump(value)
	return err
}

func parseProxyJump(value string) ([]hopSpec, error) {
	if value == "" || strings.EqualFold(value, "none") {
		return nil, nil
	}

	var hops []hopSpec
	for _, entry := range strings.Split(value, ",") {
		hop, err := parseHop(strings.TrimSpace(entry))
		if err != nil {
			return nil, fmt.Errorf("invalid ProxyJump %q: %w", value, err)
		}
		hops = append(hops, hop)
	}
	return hops, nil
}

// parseHop parses one [ssh://][user@]host[:port] entry.
func parseHop(entry string) (hopSpec, error) {
	rest := strings.TrimPrefix(entry, "ssh://")
	var hop hopSpec
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		hop.user, rest = rest[:at], rest[at+1:]
		if hop.user == "" {
			return hop, fmt.Errorf("entry %q has an empty user", entry)
		}
	}

	hop.host = rest
	if host, port, err := net.SplitHostPort(rest); err == nil {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return hop, fmt.Errorf("entry %q has an invalid port %q: use 1 to 65535",
				entry, port)
		}
		hop.host, hop.port = host, n
	}

	hop.host = strings.TrimSuffix(strings.TrimPrefix(hop.host, "["), "]")
	if hop.host == "" || strings.ContainsAny(hop.host, " /[]@") {
		return hop, fmt.Errorf("entry %q has no valid host name", entry)
	}
	return hop, nil
}

// Jumps resolves a ProxyJump value, such as "jump1,admin@jump2:2222", into
// the hops to dial, in order. Each hop's host name is looked up in c as a
// target's is: its HostName, User, Port, IdentityFile and IdentitiesOnly
// apply unless the entry gives the user or port itself. As in ssh, the
// ProxyJump that c sets for the first hop adds the hops in front of it.
func (c *SSHConfig) Jumps(value string, defaults JumpDefaults) ([]Jump, error) {
	return c.jumps(value, defaults, 0)
}

func (c *SSHConfig) jumps(value string, defaults JumpDefaults, depth int) ([]Jump, error) {
	specs, err := parseProxyJump(value)
	if err != nil || len(specs) == 0 {
		return nil, err
	}

	var chain []Jump
	for i, spec := range specs {
		hop, settings, err := c.resolveHop(spec, defaults)
		if err != nil {
			return nil, err
		}

		if i == 0 && settings.ProxyJump != "" {
			if depth+len(specs) >= maxJumps {
				return nil, fmt.Errorf("ProxyJump of %s: more than %d jump hosts; do the "+
					"ProxyJump settings name each other?", hop.Name, maxJumps)
			}
			chain, err = c.jumps(settings.ProxyJump, defaults, depth+len(specs))
			if err != nil {
				return nil, err
			}
		}
		chain = append(chain, hop)
	}

	if len(chain) > maxJumps {
		return nil, fmt.Errorf("ProxyJump %q: more than %d jump hosts", value, maxJumps)
	}
	return chain, nil
}

// resolveHop applies the SSH configuration and the defaults to one entry.
func (c *SSHConfig) resolveHop(spec hopSpec, defaults JumpDefaults) (Jump, HostSettings,
	error) {
	settings, err := c.Lookup(spec.host)
	if err != nil {
		return Jump{}, settings, err
	}

	hop := Jump{
		Name:           spec.host,
		Address:        cmp.Or(settings.HostName, spec.host),
		Port:           spec.port,
		User:           cmp.Or(spec.user, settings.User, defaults.User),
		IdentityFiles:  settings.IdentityFiles,
		IdentitiesOnly: settings.IdentitiesOnly,
	}
	if hop.Port == 0 {
		hop.Port = settings.Port
	}
	if len(hop.IdentityFiles) == 0 {
		hop.IdentityFiles = defaults.IdentityFiles
	}
	return hop, settings, nil
}

// dialTarget opens the TCP connection to the target at addr: directly, or
// through the last of cfg.Jumps. A connection through jump hosts holds a
// share of their connections until it is closed.
func dialTarget(ctx context.Context, cfg *Config, addr string) (net.Conn, error) {
	if len(cfg.Jumps) == 0 {
		var dialer net.Dialer
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return QuickAck(conn), nil
	}

	bastions := cfg.Bastions
	if bastions == nil {
		bastions = NewBastions()
	}

	via, release, err := bastions.acquire(ctx, cfg, cfg.Jumps)
	if err != nil {
		return nil, err
	}

	conn, err := via.conn.DialContext(ctx, "tcp", addr)
	if err != nil && via.lostAfter(ctx, err) {
		// The shared connection ended before its watcher saw it, so this Dial took it
		// from the set: open it again, once.
		release()
		via, release, err = bastions.acquire(ctx, cfg, cfg.Jumps)
		if err != nil {
			return nil, err
		}
		conn, err = via.conn.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		release()
		last := cfg.Jumps[len(cfg.Jumps)-1]
		return nil, fmt.Errorf("open a channel to %s through %s: %w", addr, last.Name, err)
	}
	return &jumpedConn{Conn: conn, release: release}, nil
}

// jumpedConn is a connection forwarded by a jump host. Closing it releases
// its share of the jump host's connection.
type jumpedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the forwarded connection and releases the jump host.
func (c *jumpedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
