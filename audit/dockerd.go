package audit

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// defaultConfigFile is the configuration file dockerd reads without --config-file.
const defaultConfigFile = "/etc/docker/daemon.json"

// defaultSocket is the socket dockerd serves without -H or "hosts".
const defaultSocket = "/var/run/docker.sock"

// shortFlags maps dockerd's one-letter flags to their long names.
var shortFlags = map[string]string{
	"H": "host", "D": "debug", "l": "log-level", "G": "group", "b": "bridge",
	"p": "pidfile", "g": "graph", "v": "version", "h": "help",
}

// boolFlags are dockerd's flags that take no separate value: "--icc false" is not
// "--icc=false", as in every program built on Go's flag packages.
var boolFlags = map[string]bool{
	"debug": true, "tls": true, "tlsverify": true, "icc": true, "ip-forward": true,
	"ip-masq": true, "iptables": true, "ip6tables": true, "ipv6": true,
	"userland-proxy": true, "live-restore": true, "experimental": true,
	"no-new-privileges": true, "selinux-enabled": true, "raw-logs": true, "init": true,
	"validate": true, "version": true, "help": true, "rootless": true,
	"disable-legacy-registry": true,
}

// daemonFlags are the flags of a dockerd command line by long name, each with its
// values in order. A boolean flag given without a value has the value "".
type daemonFlags map[string][]string

// parseDaemonFlags reads dockerd's arguments, argv[0] being the program: "--name=value",
// "--name value", "--name", "-H value", "-Hvalue", "-H=value" and grouped one-letter
// flags such as "-DH value".
func parseDaemonFlags(argv []string) daemonFlags {
	flags := daemonFlags{}
	for i := 1; i < len(argv); i++ {
		word, next := argv[i], ""
		if i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") {
			next = argv[i+1]
		}

		var usedNext bool
		switch {
		case word == "--":
			return flags
		case strings.HasPrefix(word, "--"):
			usedNext = flags.addLong(word[2:], next)
		case strings.HasPrefix(word, "-") && len(word) > 1:
			usedNext = flags.addShort(word[1:], next)
		}
		if usedNext {
			i++
		}
	}
	return flags
}

// addLong adds "name=value" or "name", and reports whether it took next as the value.
func (f daemonFlags) addLong(word, next string) bool {
	name, value, hasValue := strings.Cut(word, "=")
	if hasValue || boolFlags[name] || next == "" {
		f[name] = append(f[name], value)
		return false
	}
	f[name] = append(f[name], next)
	return true
}

// addShort adds a group of one-letter flags, such as "DH" or "Hfd://", and reports
// whether the last one took next as its value.
func (f daemonFlags) addShort(group, next string) bool {
	for j := 0; j < len(group); j++ {
		letter := group[j : j+1]
		name := shortFlags[letter]
		if name == "" {
			name = letter
		}
		if boolFlags[name] {
			f[name] = append(f[name], "")
			continue
		}
		if value := strings.TrimPrefix(group[j+1:], "="); value != "" {
			f[name] = append(f[name], value)
			return false
		}
		f[name] = append(f[name], next)
		return next != ""
	}
	return false
}

// daemonConfig is dockerd's configuration from its command line and its file.
type daemonConfig struct {
	argv     []string
	flags    daemonFlags
	file     string         // path of the configuration file
	settings map[string]any // the file's settings; empty when it is absent
	fileErr  string         // error reading or parsing the file; "" when read or absent
	listen   []string       // addresses of docker.socket, which -H fd:// serves on
}

// newDaemonConfig reads dockerd's command line and configuration file from the probes.
func newDaemonConfig(p *probes) *daemonConfig {
	cfg := &daemonConfig{argv: splitLines(p.DockerdCmdline.Stdout), settings: map[string]any{}}
	cfg.flags = parseDaemonFlags(cfg.argv)
	cfg.file = defaultConfigFile
	if files := cfg.flags["config-file"]; len(files) > 0 && files[len(files)-1] != "" {
		cfg.file = files[len(files)-1]
	}
	cfg.listen = p.socketListen()

	if p.configPath != cfg.file {
		return cfg
	}
	switch {
	case p.DaemonJSON.Exit == 0:
		if err := json.Unmarshal([]byte(p.DaemonJSON.Stdout), &cfg.settings); err != nil {
			cfg.fileErr = fmt.Sprintf("parse %s: %v", cfg.file, err)
		}
	case !strings.Contains(p.DaemonJSON.Stderr, "No such file"):
		cfg.fileErr = p.DaemonJSON.err("cat " + cfg.file).Error()
	}
	return cfg
}

// boolean returns the value of a boolean setting: the last --flag on the command line,
// else key in the file, else def. dockerd refuses to start when both set it.
func (c *daemonConfig) boolean(flag, key string, def bool) bool {
	if values := c.flags[flag]; len(values) > 0 {
		last := values[len(values)-1]
		if last == "" {
			return true
		}
		on, err := strconv.ParseBool(last)
		return err == nil && on
	}
	if on, ok := c.settings[key].(bool); ok {
		return on
	}
	return def
}

// strings returns the values of a list setting from the command line and the file.
func (c *daemonConfig) strings(flag, key string) []string {
	values := append([]string(nil), c.flags[flag]...)
	switch v := c.settings[key].(type) {
	case []any:
		for _, item := range v {
			values = append(values, fmt.Sprint(item))
		}
	case string:
		values = append(values, v)
	}
	return values
}

// logOpts returns the log driver options from "log-opts" and --log-opt key=value.
func (c *daemonConfig) logOpts() map[string]string {
	opts := map[string]string{}
	if m, ok := c.settings["log-opts"].(map[string]any); ok {
		for k, v := range m {
			opts[k] = fmt.Sprint(v)
		}
	}
	for _, opt := range c.flags["log-opt"] {
		if k, v, ok := strings.Cut(opt, "="); ok {
			opts[k] = v
		}
	}
	return opts
}

// hosts returns the addresses the API is served on, normalised by normalizeHost.
func (c *daemonConfig) hosts() []string {
	raw := c.strings("host", "hosts")
	if len(raw) == 0 {
		raw = []string{"unix://" + defaultSocket}
	}
	var hosts []string
	for _, h := range raw {
		hosts = appendUnique(hosts, c.normalizeHost(h)...)
	}
	return hosts
}

// normalizeHost writes an address of -H the way the controls compare it: unix://PATH or
// tcp://ADDR, with fd:// replaced by what docker.socket listens on. dockerd reads an
// address without a scheme, such as ":2375", as TCP.
func (c *daemonConfig) normalizeHost(h string) []string {
	h = strings.TrimSpace(h)
	scheme, rest, ok := strings.Cut(h, "://")
	switch {
	case !ok:
		return []string{"tcp://" + h}
	case scheme == "fd" && len(c.listen) > 0:
		return c.listen
	case scheme == "unix" && rest == "":
		return []string{"unix://" + defaultSocket}
	case scheme == "unix":
		return []string{"unix://" + path.Clean(rest)}
	case scheme == "tcp" && rest == "":
		return []string{"tcp://127.0.0.1:2375"}
	}
	return []string{strings.ToLower(scheme) + "://" + rest}
}

// socketPaths returns the paths of the unix sockets the API is served on.
func (c *daemonConfig) socketPaths() []string {
	var paths []string
	for _, h := range c.hosts() {
		if p, ok := strings.CutPrefix(h, "unix://"); ok {
			paths = append(paths, p)
		}
	}
	return paths
}

// socketPath returns the first unix socket the API is served on, or the default one.
func (c *daemonConfig) socketPath() string {
	if paths := c.socketPaths(); len(paths) > 0 {
		return paths[0]
	}
	return defaultSocket
}

// socketListen returns what docker.socket listens on, from lines of systemctl show
// such as "Listen=/run/docker.sock (Stream)", as unix://PATH or tcp://ADDR.
func (p *probes) socketListen() []string {
	var listen []string
	for _, line := range splitLines(p.Socket.Stdout) {
		value, ok := strings.CutPrefix(line, "Listen=")
		if !ok {
			continue
		}
		addr, _, _ := strings.Cut(value, " (")
		if strings.HasPrefix(addr, "/") {
			listen = append(listen, "unix://"+path.Clean(addr))
		} else if addr != "" {
			listen = append(listen, "tcp://"+addr)
		}
	}
	return listen
}

// unitPaths returns the unit files of docker.service and docker.socket that exist.
func (p *probes) unitPaths() []string {
	var paths []string
	for _, unit := range []probe{p.Service, p.Socket} {
		if file := unitProperty(unit, "FragmentPath"); file != "" {
			paths = append(paths, file)
		}
	}
	return paths
}

// unitProperty returns one property from the output of systemctl show.
func unitProperty(p probe, name string) string {
	for _, line := range splitLines(p.Stdout) {
		if value, ok := strings.CutPrefix(line, name+"="); ok {
			return value
		}
	}
	return ""
}

// appendUnique appends the values that list does not have yet.
func appendUnique(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}
