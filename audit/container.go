package audit

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// inspectedContainer is the part of docker inspect's output that the audit reads.
type inspectedContainer struct {
	ID              string `json:"Id"`
	Name            string
	AppArmorProfile string
	Config          struct{ Image string }
	HostConfig      struct {
		Privileged     bool
		CapAdd         []string
		CapDrop        []string
		SecurityOpt    []string
		NetworkMode    string
		PidMode        string
		IpcMode        string
		UTSMode        string
		UsernsMode     string
		ReadonlyRootfs bool
		Memory         int64
		PidsLimit      *int64
	}
	Mounts []struct {
		Type        string
		Source      string
		Destination string
		RW          bool
	}
}

// parseContainers parses the output of docker inspect for the running containers and
// returns them sorted by name. The output is a JSON array, as docker inspect prints by
// default, or one JSON object a line, as the gather script prints it.
func parseContainers(out string, cfg *daemonConfig) ([]Container, error) {
	inspected, err := parseInspect(out)
	if err != nil {
		return nil, fmt.Errorf("parse docker inspect output: %w", err)
	}

	sockets := dockerSockets(cfg)
	containers := make([]Container, 0, len(inspected))
	for _, c := range inspected {
		containers = append(containers, newContainer(c, sockets))
	}
	sort.Slice(containers, func(i, j int) bool { return containers[i].Name < containers[j].Name })
	return containers, nil
}

// parseInspect reads a JSON array of containers, or one container a line.
func parseInspect(out string) ([]inspectedContainer, error) {
	var list []inspectedContainer
	if strings.HasPrefix(strings.TrimSpace(out), "[") {
		err := json.Unmarshal([]byte(out), &list)
		return list, err
	}
	for _, line := range splitLines(out) {
		var c inspectedContainer
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	return list, nil
}

// newContainer normalises one container.
func newContainer(c inspectedContainer, sockets []string) Container {
	hc := c.HostConfig
	out := Container{
		Name:            strings.TrimPrefix(c.Name, "/"),
		ID:              c.ID[:min(12, len(c.ID))],
		Image:           c.Config.Image,
		Privileged:      hc.Privileged,
		CapAdd:          normalizeCapabilities(hc.CapAdd),
		CapDrop:         normalizeCapabilities(hc.CapDrop),
		SeccompProfile:  "default",
		AppArmorProfile: c.AppArmorProfile,
		SecurityOpt:     nonNil(hc.SecurityOpt),
		NetworkMode:     strings.ToLower(hc.NetworkMode),
		PIDMode:         strings.ToLower(hc.PidMode),
		IPCMode:         strings.ToLower(hc.IpcMode),
		UTSMode:         strings.ToLower(hc.UTSMode),
		UsernsMode:      strings.ToLower(hc.UsernsMode),
		ReadOnlyRootfs:  hc.ReadonlyRootfs,
		Memory:          max(hc.Memory, 0),
		Mounts:          []Mount{},
	}
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		out.PidsLimit = *hc.PidsLimit
	}
	out.setSecurityOptions(hc.SecurityOpt)

	for _, m := range c.Mounts {
		source := cleanPath(m.Source)
		out.Mounts = append(out.Mounts, Mount{Type: m.Type, Source: source,
			Destination: m.Destination, RW: m.RW, DockerSocket: exposesSocket(source, sockets)})
	}
	return out
}

// setSecurityOptions reads the container's security options. Docker accepts each in two
// spellings, "name=value" and the older "name:value", and "no-new-privileges" alone
// means "no-new-privileges=true". Docker applies no seccomp profile to a privileged
// container unless it names a custom one (WithSeccomp in moby's daemon/seccomp_linux.go).
func (c *Container) setSecurityOptions(options []string) {
	for _, opt := range options {
		name, value, hasValue := cutSecurityOpt(opt)
		switch name {
		case "no-new-privileges":
			c.setNoNewPrivileges(value, hasValue)
		case "seccomp":
			c.SeccompProfile = seccompProfile(value)
		case "apparmor":
			c.AppArmorProfile = value
		}
	}
	if c.Privileged && c.SeccompProfile != "custom" {
		c.SeccompProfile = "unconfined"
	}
}

// setNoNewPrivileges records a no-new-privileges option. A value that is not a boolean,
// which docker run rejects, leaves the setting as it was.
func (c *Container) setNoNewPrivileges(value string, hasValue bool) {
	on := true
	if hasValue {
		b, err := strconv.ParseBool(value)
		if err != nil {
			return
		}
		on = b
	}
	c.NoNewPrivileges = &on
}

// cutSecurityOpt splits a security option at its first "=" or ":".
func cutSecurityOpt(opt string) (name, value string, ok bool) {
	i := strings.IndexAny(opt, "=:")
	if i < 0 {
		return strings.ToLower(strings.TrimSpace(opt)), "", false
	}
	return strings.ToLower(strings.TrimSpace(opt[:i])), strings.TrimSpace(opt[i+1:]), true
}

// seccompProfile names the profile of a seccomp option's value. docker run sends the
// content of a profile file, which docker inspect shows as JSON: that is "custom".
func seccompProfile(value string) string {
	switch strings.ToLower(value) {
	case "unconfined":
		return "unconfined"
	case "", "default", "builtin":
		return "default"
	}
	return "custom"
}

// normalizeCapabilities writes capabilities the way the controls compare them: upper
// case without the CAP_ prefix, sorted, each once. "cap_sys_admin" becomes "SYS_ADMIN".
func normalizeCapabilities(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		out = append(out, strings.TrimPrefix(c, "CAP_"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// dockerSockets returns the paths at which the daemon's socket can be reached, with
// /var/run written as /run, which it links to on current systems.
func dockerSockets(cfg *daemonConfig) []string {
	sockets := []string{canonicalRun(defaultSocket)}
	for _, p := range cfg.socketPaths() {
		sockets = appendUnique(sockets, canonicalRun(p))
	}
	return sockets
}

// exposesSocket reports whether a mount of source gives access to one of the sockets:
// source is the socket or a directory that holds it.
func exposesSocket(source string, sockets []string) bool {
	if source == "" {
		return false
	}
	source = canonicalRun(source)
	for _, s := range sockets {
		if s == source || source == "/" || strings.HasPrefix(s, source+"/") {
			return true
		}
	}
	return false
}

// canonicalRun writes a path under /var/run as the same path under /run.
func canonicalRun(p string) string {
	p = path.Clean(p)
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		return "/run" + strings.TrimPrefix(p, "/var/run")
	}
	return p
}
