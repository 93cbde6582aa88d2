package tasks

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// aptPackageRE is Debian's package name syntax (Debian Policy, section 5.6.1): at least
// two characters of a-z, 0-9, '+', '-' and '.', starting with a letter or digit. It also
// keeps blanks, quotes and shell metacharacters out of the apt-get command line.
var aptPackageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

func init() {
	Register(&Kind{
		Name: "apt",
		Doc: "Update the package lists and upgrade installed packages with apt-get, " +
			"without prompts, keeping changed configuration files.",
		Params: []Param{
			{Name: "update_cache", Type: TypeBool, Default: false,
				Doc: "run apt-get update first"},
			{Name: "cache_valid_time", Type: TypeDuration, Default: time.Duration(0),
				Doc: "skip the update when the package lists are younger than this; " +
					"0 updates every time"},
			{Name: "upgrade", Type: TypeStringList, Default: []string{},
				Doc: "packages to upgrade if installed; packages not installed are left alone"},
			{Name: "lock_timeout", Type: TypeDuration, Default: 120 * time.Second,
				Doc: "how long to wait while another package manager holds a package lock"},
		},
		New: newAptTask,
	})
}

// aptTask updates the package lists and upgrades installed packages.
type aptTask struct {
	updateCache    bool
	cacheValidTime time.Duration
	upgrade        []string // validated, without duplicates
	lockTimeout    time.Duration
}

func newAptTask(args Args) (Task, error) {
	t := &aptTask{
		updateCache:    args.Bool("update_cache"),
		cacheValidTime: args.Duration("cache_valid_time"),
		lockTimeout:    args.Duration("lock_timeout"),
	}

	for _, name := range args.Strings("upgrade") {
		if !aptPackageRE.MatchString(name) {
			return nil, fmt.Errorf("invalid package name %q in upgrade: use lowercase "+
				"letters, digits, '+', '-' and '.', starting with a letter or digit", name)
		}
		if !slices.Contains(t.upgrade, name) {
			t.upgrade = append(t.upgrade, name)
		}
	}
	return t, t.validate()
}

// validate rejects settings that would do nothing or that make no sense.
func (t *aptTask) validate() error {
	switch {
	case !t.updateCache && len(t.upgrade) == 0:
		return fmt.Errorf("apt task does nothing: set update_cache: true or list " +
			"packages in upgrade")
	case t.cacheValidTime < 0:
		return fmt.Errorf("invalid cache_valid_time %s: use 0 or a positive duration",
			t.cacheValidTime)
	case t.cacheValidTime > 0 && !t.updateCache:
		return fmt.Errorf("cache_valid_time %s has no effect without update_cache: true",
			t.cacheValidTime)
	case t.lockTimeout < 0:
		return fmt.Errorf("invalid lock_timeout %s: use 0 or a positive duration",
			t.lockTimeout)
	}
	return nil
}

// Run updates and upgrades in one remote command. In check mode the package lists are
// left alone and the upgrade is only simulated.
func (t *aptTask) Run(ctx context.Context, env *Env) Outcome {
	cfg := hostAptScript(t.updateCache, t.cacheValidTime, t.upgrade, t.lockTimeout, env.Check)
	res, err := env.Host.Run(ctx, aptScript(cfg), nil)
	if err != nil {
		return Failed(&remoteError{op: "run apt-get", err: err})
	}
	if res.ExitCode != 0 {
		return Failed(fmt.Errorf("run apt-get: script exited with status %d: %s",
			res.ExitCode, outputTail(res.Stderr, 3)))
	}

	report := parseRemoteReport(res.Stdout)
	var parts []string
	if t.updateCache {
		msg, err := t.updateResult(report)
		if err != nil {
			return Failed(err)
		}
		parts = append(parts, msg)
	}
	if len(t.upgrade) == 0 {
		return OK(strings.Join(parts, "; "))
	}

	msg, changed, err := t.upgradeResult(report)
	if err != nil {
		return Failed(err)
	}
	parts = append(parts, msg)
	if changed {
		return Changed(strings.Join(parts, "; "))
	}
	return OK(strings.Join(parts, "; "))
}

// updateResult describes the package list update. A successful update is not a change,
// since it alters no configuration and a second run would repeat it.
func (t *aptTask) updateResult(report remoteReport) (string, error) {
	switch report.fields["update"] {
	case "done":
		return "package lists updated", nil
	case "fresh":
		age, _ := strconv.Atoi(report.fields["cache_age_s"])
		return fmt.Sprintf("package lists are %s old, within cache_valid_time %s",
			time.Duration(age)*time.Second, t.cacheValidTime), nil
	case "skipped":
		return "package lists not updated in check mode", nil
	case "lock-timeout":
		return "", lockTimeoutError("apt-get update", t.lockTimeout, report)
	case "failed":
		return "", fmt.Errorf("apt-get update failed (exit status %s): %s",
			report.fields["apt_status"], aptFailureLines(report.sections["output"]))
	}
	return "", fmt.Errorf("apt-get update: script printed no result")
}

// upgradeResult describes the upgrade and reports whether a version changed or, in
// check mode, would change.
func (t *aptTask) upgradeResult(report remoteReport) (string, bool, error) {
	before := parseDpkgVersions(report.sections["before"])
	after := parseDpkgVersions(report.sections["after"])
	left := leftAlone(t.upgrade, before)

	var msg string
	changed := false
	switch report.fields["upgrade"] {
	case "none":
		msg = "no listed package is installed"
	case "done":
		msg, changed = describeUpgrade(before, after)
	case "simulated":
		msg, changed = describeSimulation(report.sections["output"], before)
	case "lock-timeout":
		return "", false, lockTimeoutError("apt-get install --only-upgrade", t.lockTimeout,
			report)
	case "failed":
		return "", false, fmt.Errorf("apt-get install --only-upgrade %s failed "+
			"(exit status %s): %s", strings.Join(before.names(), " "),
			report.fields["apt_status"], aptFailureLines(report.sections["output"]))
	default:
		return "", false, fmt.Errorf("apt-get install --only-upgrade: script printed no result")
	}

	if len(left) > 0 {
		msg += fmt.Sprintf("; %s not installed, left alone", strings.Join(left, ", "))
	}
	return msg, changed, nil
}

// dpkgVersions holds installed packages and their versions, in dpkg-query's order.
type dpkgVersions struct {
	packages []string          // names as dpkg-query prints them, with ":arch" when foreign
	version  map[string]string // package -> version
}

// names returns the package names without architecture qualifiers.
func (v dpkgVersions) names() []string {
	var names []string
	for _, pkg := range v.packages {
		name, _, _ := strings.Cut(pkg, ":")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// parseDpkgVersions reads lines "status package version" and keeps the installed ones,
// whose status abbreviation has 'i' in second place.
func parseDpkgVersions(text string) dpkgVersions {
	v := dpkgVersions{version: map[string]string{}}
	for line := range strings.SplitSeq(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 || len(fields[0]) < 2 || fields[0][1] != 'i' {
			continue
		}
		if _, dup := v.version[fields[1]]; !dup {
			v.packages = append(v.packages, fields[1])
		}
		v.version[fields[1]] = fields[2]
	}
	return v
}

// leftAlone returns the requested packages that are not installed.
func leftAlone(requested []string, installed dpkgVersions) []string {
	names := installed.names()
	var left []string
	for _, name := range requested {
		if !slices.Contains(names, name) {
			left = append(left, name)
		}
	}
	return left
}

// describeUpgrade names the packages whose version changed, as "name old -> new".
func describeUpgrade(before, after dpkgVersions) (string, bool) {
	var upgraded, current []string
	for _, pkg := range before.packages {
		old, now := before.version[pkg], after.version[pkg]
		if now != "" && now != old {
			upgraded = append(upgraded, fmt.Sprintf("%s %s -> %s", pkg, old, now))
		} else {
			current = append(current, fmt.Sprintf("%s %s", pkg, old))
		}
	}
	return upgradeMessage("upgraded", upgraded, current), len(upgraded) > 0
}

// aptSimulatedRE matches an "Inst" line of apt-get -s: the package, the installed
// version in brackets when there is one, and the candidate version.
var aptSimulatedRE = regexp.MustCompile(`(?m)^Inst (\S+) (?:\[(\S+)\] )?\((\S+)`)

// describeSimulation names the packages apt-get -s would install or upgrade, which may
// include dependencies that were not requested.
func describeSimulation(output string, before dpkgVersions) (string, bool) {
	var upgraded []string
	for _, m := range aptSimulatedRE.FindAllStringSubmatch(output, -1) {
		old := m[2]
		if old == "" {
			old = "(not installed)"
		}
		upgraded = append(upgraded, sanitizeOutput(fmt.Sprintf("%s %s -> %s", m[1], old,
			m[3]), false))
	}

	var current []string
	if len(upgraded) == 0 {
		for _, pkg := range before.packages {
			current = append(current, fmt.Sprintf("%s %s", pkg, before.version[pkg]))
		}
	}
	return upgradeMessage("would upgrade", upgraded, current), len(upgraded) > 0
}

// upgradeMessage joins the upgraded packages and those already at the newest version.
func upgradeMessage(verb string, upgraded, current []string) string {
	var parts []string
	if len(upgraded) > 0 {
		parts = append(parts, verb+" "+strings.Join(upgraded, ", "))
	}
	if len(current) > 0 {
		parts = append(parts, "already at the newest version: "+strings.Join(current, ", "))
	}
	return sanitizeOutput(strings.Join(parts, "; "), false)
}

// aptFetchErrorRE matches the lines by which apt-get update reports a source it could
// not fetch, even when it exits 0.
var aptFetchErrorRE = regexp.MustCompile(
	`(?m)^(?:(?:W|E): Failed to fetch.*|Err:.*|.*Some index files failed to download.*)$`)

// aptFailureLines returns the fetch errors in output, or else its last lines, as one line.
func aptFailureLines(output string) string {
	lines := aptFetchErrorRE.FindAllString(output, 3)
	if len(lines) == 0 {
		return outputTail([]byte(output), 3)
	}
	return outputTail([]byte(strings.Join(lines, "\n")), 3)
}

// aptLockHolderRE and aptLockPathRE find the lock in apt's messages "Could not get lock
// PATH. It is held by process PID (NAME)" and "Unable to acquire the dpkg frontend lock
// (PATH), is another process using it?".
var (
	aptLockHolderRE = regexp.MustCompile(
		`Could not get lock (\S+?)\.?(?: It is held by process (\d+)(?: \(([^)\n]*)\))?)?(?:\s|$)`)
	aptLockPathRE = regexp.MustCompile(`\((/[^)\n]*)\), is another process using it`)
)

// lockTimeoutError explains that a package lock stayed held for the whole lock timeout.
func lockTimeoutError(step string, timeout time.Duration, report remoteReport) error {
	lock, holder := "a package lock", ""
	for line := range strings.SplitSeq(report.sections["output"], "\n") {
		if m := aptLockHolderRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			lock = m[1]
			if m[2] != "" {
				holder = " by process " + m[2]
			}
			if m[3] != "" {
				holder += " (" + m[3] + ")"
			}
			break
		}
		if m := aptLockPathRE.FindStringSubmatch(line); m != nil {
			lock = m[1]
			break
		}
	}

	return fmt.Errorf("%s: %s is still held%s after waiting %s: another package manager "+
		"is running; let it finish or raise lock_timeout", step,
		sanitizeOutput(lock, false), sanitizeOutput(holder, false), timeout)
}
