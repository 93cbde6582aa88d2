package transport

import (
	"cmp"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// SystemSSHConfig is the path of the system-wide OpenSSH client configuration.
const SystemSSHConfig = "/etc/ssh/ssh_config"

// SSHConfig is a parsed OpenSSH client configuration (ssh_config(5)), made of
// one or more files read in order. As in ssh, the first value found for a
// keyword wins, except IdentityFile, whose values add up. A nil *SSHConfig is
// an empty configuration.
//
// Only the keywords that HostSettings lists are used. Host patterns and Match
// blocks with the "all" and "host" criteria work; a file with another Match
// criterion fails to load.
type SSHConfig struct {
	files []*ssh_config.Config
	paths []string
	home  string // for ~ and %d
	local string // local user name, for %u
}

// HostSettings are what an SSH configuration sets for one host. A zero field
// means that no file sets it.
type HostSettings struct {
	HostName        string        // real host name, %h expanded
	User            string        // login user
	Port            int           // SSH port
	IdentityFiles   []string      // private keys that exist, ~ and tokens expanded
	IdentitiesOnly  bool          // use the identity files only, not ssh-agent keys
	ProxyJump       string        // jump hosts as written, "none" included
	KnownHostsFiles []string      // UserKnownHostsFile, ~ and tokens expanded
	ConnectTimeout  time.Duration // ConnectTimeout, given in seconds in the file
}

// LoadSSHConfig parses the files at paths, in the order given. Every file
// must exist. Relative Include paths resolve against ~/.ssh, as in ssh.
func LoadSSHConfig(paths ...string) (*SSHConfig, error) {
	c, err := newSSHConfig()
	if err != nil {
		return nil, err
	}

	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read ssh config: %w", err)
		}

		if err := c.add(path, data); err != nil {
			return nil, err
		}
	}

	return c, nil
}

// ParseSSHConfig parses data, the content of the ssh config file named name.
func ParseSSHConfig(name string, data []byte) (*SSHConfig, error) {
	c, err := newSSHConfig()
	if err != nil {
		return nil, err
	}

	if err := c.add(name, data); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultSSHConfigFiles returns the files that ssh reads when no -F option
// is given and that exist: ~/.ssh/config, then /etc/ssh/ssh_config.
func DefaultSSHConfigFiles() []string {
	var files []string
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".ssh", "config"))
	}
	files = append(files, SystemSSHConfig)

	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	return existing
}

// Files returns the paths of the files that c was read from.
func (c *SSHConfig) Files() []string {
	if c == nil {
		return nil
	}

	return append([]string(nil), c.paths...)
}

func newSSHConfig() (*SSHConfig, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("load ssh config: %w", err)
	}

	local, err := localUserName()
	if err != nil {
		return nil, fmt.Errorf("load ssh config: %w", err)
	}

	return &SSHConfig{home: home, local: local}, nil
}

func (c *SSHConfig) add(name string, data []byte) error {
	file, err := ssh_config.DecodeBytes(data)
	if err != nil {
		return fmt.Errorf("parse ssh config %s: %w", name, err)
	}

	c.files = append(c.files, file)
	c.paths = append(c.paths, name)
	return nil
}

// Lookup returns the settings for host, the name given to ssh. Host patterns
// match it in lower case, as ssh lowers the name before matching.
func (c *SSHConfig) Lookup(host string) (HostSettings, error) {
	var s HostSettings
	if c == nil {
		return s, nil
	}

	alias := strings.ToLower(host)
	s.HostName = c.first(alias, "HostName")
	s.User = c.first(alias, "User")
	s.ProxyJump = c.first(alias, "ProxyJump")
	if err := c.lookupNumbers(alias, &s); err != nil {
		return HostSettings{}, err
	}

	only, err := yesNo(c.first(alias, "IdentitiesOnly"))
	if err != nil {
		return HostSettings{}, fmt.Errorf("ssh config for %s: IdentitiesOnly: %w", host, err)
	}
	s.IdentitiesOnly = only

	if err := c.expandSettings(alias, &s); err != nil {
		return HostSettings{}, fmt.Errorf("ssh config for %s: %w", host, err)
	}
	return s, nil
}

// lookupNumbers sets Port and ConnectTimeout.
func (c *SSHConfig) lookupNumbers(alias string, s *HostSettings) error {
	if v := c.first(alias, "Port"); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("ssh config for %s: invalid Port %q: use 1 to 65535", alias, v)
		}
		s.Port = port
	}

	if v := c.first(alias, "ConnectTimeout"); v != "" && v != "none" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			return fmt.Errorf("ssh config for %s: invalid ConnectTimeout %q: use a number "+
				"of seconds", alias, v)
		}
		s.ConnectTimeout = time.Duration(secs) * time.Second
	}
	return nil
}

// expandSettings expands %h in HostName, then ~ and the tokens in the
// identity and known_hosts files.
func (c *SSHConfig) expandSettings(alias string, s *HostSettings) error {
	hostName, err := c.expand(s.HostName, alias, tokens{host: alias})
	if err != nil {
		return fmt.Errorf("HostName: %w", err)
	}
	s.HostName = hostName

	t := tokens{host: cmp.Or(s.HostName, alias), user: cmp.Or(s.User, c.local),
		port: strconv.Itoa(cmp.Or(s.Port, 22))}
	for _, v := range c.all(alias, "IdentityFile") {
		if strings.EqualFold(v, "none") {
			continue
		}
		file, err := c.expandPath(v, t)
		if err != nil {
			return fmt.Errorf("IdentityFile %q: %w", v, err)
		}

		// ssh skips an IdentityFile that does not exist, and so does fleetharden.
		if _, err := os.Stat(file); err == nil {
			s.IdentityFiles = append(s.IdentityFiles, file)
		}
	}

	for _, v := range strings.Fields(c.first(alias, "UserKnownHostsFile")) {
		file, err := c.expandPath(v, t)
		if err != nil {
			return fmt.Errorf("UserKnownHostsFile %q: %w", v, err)
		}
		s.KnownHostsFiles = append(s.KnownHostsFiles, file)
	}
	return nil
}

// first returns the first value of key for alias across the files.
func (c *SSHConfig) first(alias, key string) string {
	for _, f := range c.files {
		if v, err := f.Get(alias, key); err == nil && v != "" {
			return v
		}
	}
	return ""
}

// all returns every value of key for alias across the files, in order.
func (c *SSHConfig) all(alias, key string) []string {
	var values []string
	for _, f := range c.files {
		if v, err := f.GetAll(alias, key); err == nil {
			values = append(values, v...)
		}
	}
	return values
}

// tokens are the values of the percent tokens of ssh_config(5) that
// fleetharden expands: %h the remote host name, %r the remote user, %p the
// port, plus %d (home), %u (local user) and %% from SSHConfig.
type tokens struct {
	host, user, port string
}

// expandPath expands a leading ~ and the tokens of path, and makes a
// relative result relative to ~/.ssh, as ssh does for IdentityFile.
func (c *SSHConfig) expandPath(path string, t tokens) (string, error) {
	if path == "~" || strings.HasPrefix(path, "~/") {
		path = c.home + path[1:]
	}

	expanded, err := c.expand(path, "", t)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(expanded) {
		expanded = filepath.Join(c.home, ".ssh", expanded)
	}
	return expanded, nil
}

// expand replaces the percent tokens in s. alias, when not empty, is the
// only token allowed besides %%, for HostName.
func (c *SSHConfig) expand(s, alias string, t tokens) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("%q ends with a lone %%", s)
		}

		i++
		value, ok := c.token(s[i], alias, t)
		if !ok {
			return "", fmt.Errorf("unsupported token %%%c in %q: use %%d, %%h, %%p, %%r, "+
				"%%u or %%%%", s[i], s)
		}
		b.WriteString(value)
	}
	return b.String(), nil
}

// token returns the value of the token %ch.
func (c *SSHConfig) token(ch byte, alias string, t tokens) (string, bool) {
	if alias != "" {
		switch ch {
		case 'h':
			return alias, true
		case '%':
			return "%", true
		}
		return "", false
	}

	values := map[byte]string{'%': "%", 'd': c.home, 'u': c.local, 'h': t.host,
		'r': t.user, 'p': t.port}
	v, ok := values[ch]
	return v, ok
}

// yesNo parses a yes/no keyword value; "" is no.
func yesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true":
		return true, nil
	case "", "no", "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid value %q: use yes or no", v)
}

// localUserName returns the name of the user running fleetharden.
func localUserName() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("look up the local user: %w", err)
	}
	return u.Username, nil
}
