package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// dockerInfo is the part of docker info's output that the audit reads.
type dockerInfo struct {
	ServerVersion      string
	LoggingDriver      string
	LiveRestoreEnabled bool
	ExperimentalBuild  bool
	SecurityOptions    []string
	ServerErrors       []string
	RegistryConfig     struct {
		InsecureRegistryCIDRs []string
		IndexConfigs          map[string]struct {
			Name    string
			Mirrors []string
			Secure  bool
		}
	}
}

// newState builds the State of a host from the output of its probes. It returns an error
// when the daemon could not be queried or its output could not be parsed.
func newState(p *probes) (*State, error) {
	info, err := parseInfo(p.DockerInfo)
	if err != nil {
		return nil, err
	}
	if err := p.Containers.err("docker ps"); err != nil {
		return nil, err
	}

	cfg := newDaemonConfig(p)
	containers, err := parseContainers(p.Containers.Stdout, cfg)
	if err != nil {
		return nil, err
	}
	return &State{
		Daemon:      newDaemon(info, cfg, p),
		DockerGroup: parseGroup(p.DockerGroup, p.DockerGroupUsers),
		Files:       newFiles(p, cfg),
		Containers:  containers,
	}, nil
}

// parseInfo parses docker info's output, or returns why the daemon could not be asked.
func parseInfo(p probe) (*dockerInfo, error) {
	if err := p.err("docker info"); err != nil {
		return nil, err
	}
	var info dockerInfo
	if err := json.Unmarshal([]byte(p.Stdout), &info); err != nil {
		return nil, fmt.Errorf("parse docker info output: %w", err)
	}
	if len(info.ServerErrors) > 0 {
		return nil, errors.New("docker info: " + strings.Join(info.ServerErrors, "; "))
	}
	return &info, nil
}

// newDaemon builds the daemon's effective configuration.
func newDaemon(info *dockerInfo, cfg *daemonConfig, p *probes) Daemon {
	tlsVerify := cfg.boolean("tlsverify", "tlsverify", false)
	d := Daemon{
		Version:         info.ServerVersion,
		CommandLine:     nonNil(cfg.argv),
		ConfigFile:      cfg.file,
		Config:          cfg.settings,
		ConfigError:     cfg.fileErr,
		Hosts:           cfg.hosts(),
		TLS:             cfg.boolean("tls", "tls", false) || tlsVerify,
		TLSVerify:       tlsVerify,
		LogDriver:       info.LoggingDriver,
		LogOpts:         cfg.logOpts(),
		NoNewPrivileges: cfg.boolean("no-new-privileges", "no-new-privileges", false),
		LiveRestore:     info.LiveRestoreEnabled,
		UserlandProxy:   cfg.boolean("userland-proxy", "userland-proxy", true),
		ICC:             bridgeICC(p.Bridge, cfg.boolean("icc", "icc", true)),
		SecurityOptions: nonNil(info.SecurityOptions),
		Experimental:    info.ExperimentalBuild,
	}
	d.TCPEndpoints = tcpEndpoints(d.Hosts, p.Listeners.Stdout)
	d.InsecureRegistryCIDRs, d.Registries = registries(info)
	d.setSecurityOptions(info.SecurityOptions)
	return d
}

// tcpEndpoints returns the TCP addresses among hosts, and those on which ss shows
// dockerd listening.
func tcpEndpoints(hosts []string, listeners string) []string {
	endpoints := []string{}
	for _, h := range hosts {
		if strings.HasPrefix(h, "tcp://") {
			endpoints = appendUnique(endpoints, h)
		}
	}

	// A line of ss -Hltnp: State Recv-Q Send-Q Local Peer Process.
	for _, line := range splitLines(listeners) {
		fields := strings.Fields(line)
		if len(fields) >= 6 && strings.Contains(line, `"dockerd"`) {
			endpoints = appendUnique(endpoints, "tcp://"+fields[3])
		}
	}
	return endpoints
}

// bridgeICC returns whether the default bridge network lets its containers reach each
// other, from the option of the running network, or def when it is not known.
func bridgeICC(p probe, def bool) bool {
	var networks []struct{ Options map[string]string }
	if p.Exit != 0 || json.Unmarshal([]byte(p.Stdout), &networks) != nil || len(networks) == 0 {
		return def
	}
	value, ok := networks[0].Options["com.docker.network.bridge.enable_icc"]
	if !ok {
		return def
	}
	on, err := strconv.ParseBool(value)
	if err != nil {
		return def
	}
	return on
}

// registries returns the insecure registry ranges and the registries docker info lists,
// sorted by name.
func registries(info *dockerInfo) ([]string, []Registry) {
	cidrs := nonNil(info.RegistryConfig.InsecureRegistryCIDRs)
	list := []Registry{}
	for name, ic := range info.RegistryConfig.IndexConfigs {
		if ic.Name != "" {
			name = ic.Name
		}
		list = append(list, Registry{Name: name, Secure: ic.Secure, Mirrors: nonNil(ic.Mirrors)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return cidrs, list
}

// setSecurityOptions reads docker info's security options, such as
// "name=seccomp,profile=default" and "name=apparmor".
func (d *Daemon) setSecurityOptions(options []string) {
	for _, opt := range options {
		fields := map[string]string{}
		for _, field := range strings.Split(opt, ",") {
			k, v, _ := strings.Cut(field, "=")
			fields[k] = v
		}
		switch fields["name"] {
		case "seccomp":
			d.SeccompProfile = fields["profile"]
			if d.SeccompProfile == "" {
				d.SeccompProfile = "default"
			}
		case "apparmor":
			d.AppArmor = true
		case "selinux":
			d.SELinux = true
		case "userns":
			d.UserNamespaces = true
		case "rootless":
			d.Rootless = true
		}
	}
}

// parseGroup reads the docker group from getent group and the users whose primary group
// it is.
func parseGroup(group, primary probe) Group {
	line := strings.TrimSpace(group.Stdout)
	g := Group{Exists: group.Exit == 0 && line != "", Members: []string{}}
	if fields := strings.Split(line, ":"); g.Exists && len(fields) == 4 && fields[3] != "" {
		g.Members = append(g.Members, strings.Split(fields[3], ",")...)
	}
	g.Members = append(g.Members, splitLines(primary.Stdout)...)
	sort.Strings(g.Members)
	g.Members = slices.Compact(g.Members)
	return g
}

// newFiles returns the owner and mode of Docker's files by their State.Files key.
func newFiles(p *probes, cfg *daemonConfig) map[string]File {
	stats := parseStat(p.Stat.Stdout)
	paths := map[string]string{
		FileDaemonJSON:         cfg.file,
		FileDockerSocket:       cfg.socketPath(),
		FileDockerService:      unitProperty(p.Service, "FragmentPath"),
		FileDockerSocketUnit:   unitProperty(p.Socket, "FragmentPath"),
		FileEtcDocker:          "/etc/docker",
		FileEtcDefaultDocker:   "/etc/default/docker",
		FileEtcSysconfigDocker: "/etc/sysconfig/docker",
	}

	files := map[string]File{}
	for key, path := range paths {
		f, ok := stats[path]
		if !ok {
			f = File{Path: path}
		}
		files[key] = f
	}
	return files
}

// nonNil returns list, or an empty list for nil, so that JSON shows [] and not null.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
