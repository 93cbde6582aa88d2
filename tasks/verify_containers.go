package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

var verifyContainersParams = []Param{
	{Name: "allowed_capabilities", Type: TypeStringList, Default: []string{},
		Doc: "capabilities a container may add, such as NET_BIND_SERVICE; ALL allows any"},
	{Name: "allow_privileged", Type: TypeBool, Default: false,
		Doc: "accept privileged containers"},
	{Name: "require_no_new_privileges", Type: TypeBool, Default: true,
		Doc: "fail containers that run without no-new-privileges"},
	{Name: "require_seccomp", Type: TypeBool, Default: true,
		Doc: "fail containers, and daemons, that run without a seccomp profile"},
	{Name: "require_apparmor", Type: TypeBool, Default: true,
		Doc: "fail unconfined containers when the daemon has AppArmor enabled"},
	{Name: "ignore", Type: TypeStringList, Default: []string{},
		Doc: "container name globs to skip, such as \"ci-*\""},
}

func init() {
	Register(&Kind{
		Name: "verify_containers",
		Doc: "Check the running containers of the Docker daemon for privileged mode, added " +
			"capabilities, and missing no-new-privileges, seccomp or AppArmor. Changes nothing.",
		Params:   verifyContainersParams,
		ReadOnly: true,
		New:      newVerifyContainersTask,
	})
}

// verifyContainersTask checks running containers against a security policy.
type verifyContainersTask struct {
	allowedCaps     map[string]bool // normalised: upper case without the CAP_ prefix
	allowPrivileged bool
	requireNNP      bool
	requireSeccomp  bool
	requireAppArmor bool
	ignore          []string
}

func newVerifyContainersTask(args Args) (Task, error) {
	args = withDefaults(verifyContainersParams, args)
	t := &verifyContainersTask{
		allowedCaps:     map[string]bool{},
		allowPrivileged: args.Bool("allow_privileged"),
		requireNNP:      args.Bool("require_no_new_privileges"),
		requireSeccomp:  args.Bool("require_seccomp"),
		requireAppArmor: args.Bool("require_apparmor"),
		ignore:          args.Strings("ignore"),
	}
	for _, c := range args.Strings("allowed_capabilities") {
		name := normalizeCapability(c)
		if !capabilityRE.MatchString(name) {
			return nil, fmt.Errorf("allowed_capabilities: invalid capability %q: use a name "+
				"such as NET_BIND_SERVICE", c)
		}
		t.allowedCaps[name] = true
	}
	for _, glob := range t.ignore {
		if _, err := path.Match(glob, ""); err != nil {
			return nil, fmt.Errorf("ignore: invalid glob %q: %w", glob, err)
		}
	}
	return t, nil
}

// capabilityRE matches a normalised capability name, or ALL.
var capabilityRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// normalizeCapability writes a capability the way the policy compares it: "cap_sys_admin"
// and "SYS_ADMIN" are the same.
func normalizeCapability(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	return strings.TrimPrefix(c, "CAP_")
}

// Run checks every running container against the policy, with one command for the
// daemon's state, which other tasks may have read already, and one for the containers.
func (t *verifyContainersTask) Run(ctx context.Context, env *Env) Outcome {
	state, err := readDockerState(ctx, env, false)
	if err != nil {
		return Failed(err)
	}
	containers, err := readRunningContainers(ctx, env, state)
	if err != nil {
		return Failed(err)
	}

	var checked, ignored int
	var failures []containerFindings
	if faults := t.daemonFaults(state); len(faults) > 0 {
		failures = append(failures, containerFindings{Name: "daemon", Faults: faults})
	}
	for _, c := range containers {
		name := strings.TrimPrefix(c.Name, "/")
		if t.ignored(name) {
			ignored++
			continue
		}
		checked++
		if faults := t.containerFaults(c, state); len(faults) > 0 {
			failures = append(failures, containerFindings{Name: name, Container: c, Faults: faults})
		}
	}
	return verifyOutcome(checked, ignored, failures)
}

// daemonUsesCurrentFile reports whether the running dockerd started after daemon.json
// last changed, so that it runs with the file as it is now. Unknown times count as yes.
func daemonUsesCurrentFile(fields map[string]string) bool {
	started, ok := parseDaemonStart(fields)
	changed, known := parseStatTime(fields["file_changed"])
	return !ok || !known || !changed.After(started)
}

// daemonDefaultNNP reports whether dockerd gives every new container no-new-privileges,
// from its --no-new-privileges flag or, without that flag, from daemon.json. The file
// counts only when fileCurrent reports that the daemon started after its last change.
func daemonDefaultNNP(daemonJSON []byte, argv []string, fileCurrent bool) bool {
	for _, f := range parseDaemonFlags(argv) {
		if f.Name == "no-new-privileges" {
			on, err := strconv.ParseBool(f.Value)
			return f.Value == "" || (err == nil && on)
		}
	}
	var conf struct {
		NoNewPrivileges bool `json:"no-new-privileges"`
	}
	return fileCurrent && json.Unmarshal(daemonJSON, &conf) == nil && conf.NoNewPrivileges
}

func (t *verifyContainersTask) ignored(name string) bool {
	for _, glob := range t.ignore {
		if ok, _ := path.Match(glob, name); ok {
			return true
		}
	}
	return false
}

// daemonFaults returns what is wrong for every container of the daemon.
func (t *verifyContainersTask) daemonFaults(s *dockerState) []string {
	if t.requireSeccomp && !s.seccompActive {
		return []string{"seccomp disabled"}
	}
	return nil
}

// containerFaults returns what is wrong with one container, in a fixed order.
func (t *verifyContainersTask) containerFaults(c dockerContainer, s *dockerState) []string {
	var faults []string
	hc := c.HostConfig
	if hc.Privileged && !t.allowPrivileged {
		faults = append(faults, "privileged")
	}
	if caps := t.disallowedCaps(hc.CapAdd); len(caps) > 0 {
		faults = append(faults, "cap_add "+strings.Join(caps, ","))
	}
	if t.requireNNP && !containerNNP(hc.SecurityOpt, s.daemonNNP) {
		faults = append(faults, s.missingNNPFault())
	}
	if t.requireSeccomp && hasSecurityOpt(hc.SecurityOpt, "seccomp", "unconfined") {
		faults = append(faults, "seccomp unconfined")
	}
	// A privileged container runs without AppArmor: allow_privileged accepts that.
	exempt := hc.Privileged && t.allowPrivileged
	if t.requireAppArmor && s.apparmorOn && !exempt && appArmorUnconfined(c) {
		faults = append(faults, "apparmor unconfined")
	}
	return faults
}

// missingNNPFault describes a container without no-new-privileges. It notes when
// daemon.json sets the option but the running daemon may not apply it: dockerd started
// before the file last changed, so it may run with an older version of the file.
func (s *dockerState) missingNNPFault() string {
	if s.nnpPending {
		return "no no-new-privileges unless dockerd applies it: daemon.json sets it, but " +
			"dockerd started before the file last changed"
	}
	return "no no-new-privileges"
}

func (t *verifyContainersTask) disallowedCaps(capAdd []string) []string {
	if t.allowedCaps["ALL"] {
		return nil
	}
	var out []string
	for _, c := range capAdd {
		name := normalizeCapability(c)
		if !t.allowedCaps[name] {
			out = append(out, name)
		}
	}
	return out
}

// containerNNP reports whether a container runs with no-new-privileges. Its security
// options override the daemon's default: "no-new-privileges", "no-new-privileges:true"
// and "no-new-privileges=false" are all valid.
func containerNNP(securityOpt []string, daemonDefault bool) bool {
	on := daemonDefault
	for _, opt := range securityOpt {
		name, value, hasValue := cutSecurityOpt(opt)
		if name != "no-new-privileges" {
			continue
		}
		if !hasValue {
			on = true
			continue
		}
		if b, err := strconv.ParseBool(value); err == nil {
			on = b
		}
	}
	return on
}

// cutSecurityOpt splits a security option at its first "=" or, in the older syntax, ":".
func cutSecurityOpt(opt string) (name, value string, ok bool) {
	i := strings.IndexAny(opt, "=:")
	if i < 0 {
		return opt, "", false
	}
	return opt[:i], opt[i+1:], true
}

func hasSecurityOpt(securityOpt []string, name, value string) bool {
	for _, opt := range securityOpt {
		n, v, _ := cutSecurityOpt(opt)
		if n == name && v == value {
			return true
		}
	}
	return false
}

// appArmorUnconfined reports whether a container runs without an AppArmor profile on a
// daemon that applies one.
func appArmorUnconfined(c dockerContainer) bool {
	return c.AppArmorProfile == "" || c.AppArmorProfile == "unconfined" ||
		hasSecurityOpt(c.HostConfig.SecurityOpt, "apparmor", "unconfined")
}

// containerFindings are the faults of one container, or of the daemon itself.
type containerFindings struct {
	Name      string
	Container dockerContainer
	Faults    []string
}

// verifyOutcome builds the one-line message and, on failure, a listing with one line
// per failed container in Diff.
func verifyOutcome(checked, ignored int, failures []containerFindings) Outcome {
	summary := fmt.Sprintf("%d %s checked", checked, plural(checked, "container", "containers"))
	if ignored > 0 {
		summary += fmt.Sprintf(" (%d ignored)", ignored)
	}
	if len(failures) == 0 {
		if checked == 0 && ignored == 0 {
			return OK("no running containers")
		}
		return OK(summary + ", all passed")
	}

	parts := make([]string, len(failures))
	var listing strings.Builder
	for i, f := range failures {
		parts[i] = fmt.Sprintf("%s (%s)", f.Name, strings.Join(f.Faults, ", "))
		fmt.Fprintf(&listing, "%s\n", describeFindings(f))
	}
	out := Failed(fmt.Errorf("%s, %d failed: %s", summary, len(failures), strings.Join(parts, ", ")))
	out.Diff = listing.String()
	return out
}

func describeFindings(f containerFindings) string {
	if f.Container.ID == "" {
		return fmt.Sprintf("%s: %s", f.Name, strings.Join(f.Faults, ", "))
	}
	id := f.Container.ID[:min(12, len(f.Container.ID))]
	return fmt.Sprintf("%s (id %s, image %s): %s", f.Name, id, f.Container.Config.Image,
		strings.Join(f.Faults, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (*verifyContainersTask) sharedReads() []string { return []string{dockerStateKey.kind} }
