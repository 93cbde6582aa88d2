package tasks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/fleetharden/fleetharden/transport"
)

var daemonConfigParams = []Param{
	{Name: "path", Type: TypeString, Default: "/etc/docker/daemon.json",
		Doc: "daemon configuration file to edit"},
	{Name: "settings", Type: TypeMap, Required: true,
		Doc: "daemon.json keys to set; mappings such as log-opts merge key by key"},
	{Name: "remove", Type: TypeStringList, Default: []string{},
		Doc: "top-level daemon.json keys to delete"},
	{Name: "service", Type: TypeString, Default: "docker",
		Doc: "systemd unit of dockerd, whose flags must not repeat a key of the file"},
}

func init() {
	Register(&Kind{
		Name: "docker_daemon_config",
		Doc: "Merge settings into the Docker daemon's daemon.json, keeping the keys it " +
			"does not manage. Keys, value types and common values are checked first, so a " +
			"file that would stop dockerd, or every container, from starting is not written.",
		Params: daemonConfigParams,
		New:    newDaemonConfigTask,
	})
}

// unitNameRE matches systemd unit names, which keeps the name safe on a command line.
var unitNameRE = regexp.MustCompile(`^[A-Za-z0-9:_.@\\-]+$`)

// daemonConfigTask merges settings into daemon.json.
type daemonConfigTask struct {
	path     string
	settings map[string]any // coerced to the JSON types dockerd expects
	remove   []string
	service  string
}

func newDaemonConfigTask(args Args) (Task, error) {
	args = withDefaults(daemonConfigParams, args)
	t := &daemonConfigTask{
		path:    args.String("path"),
		remove:  args.Strings("remove"),
		service: args.String("service"),
	}
	if err := CheckPath("path", t.path); err != nil {
		return nil, err
	}
	if !unitNameRE.MatchString(t.service) {
		return nil, fmt.Errorf("service %q: invalid systemd unit name", t.service)
	}

	settings, err := coerceDaemonSettings(args.Map("settings"))
	if err != nil {
		return nil, err
	}
	if err := checkSettingValues(settings); err != nil {
		return nil, err
	}
	t.settings = settings
	if err := t.checkRemove(); err != nil {
		return nil, err
	}
	return t, nil
}

// coerceDaemonSettings converts every setting to the type dockerd expects and rejects
// unknown keys together, so one error lists every typo.
func coerceDaemonSettings(settings map[string]any) (map[string]any, error) {
	var unknown []string
	for _, k := range sortedKeys(settings) {
		if _, ok := daemonKeys[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("settings: %w", unknownKeyError(unknown))
	}

	out := make(map[string]any, len(settings))
	for _, k := range sortedKeys(settings) {
		v, err := coerceDaemonValue(k, settings[k])
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func (t *daemonConfigTask) checkRemove() error {
	if len(t.settings) == 0 && len(t.remove) == 0 {
		return errors.New("settings is empty and remove lists no key: nothing to do")
	}
	for _, k := range t.remove {
		if k == "" {
			return errors.New("remove: empty key")
		}
		if _, both := t.settings[k]; both {
			return fmt.Errorf("key %q is both in settings and in remove: keep one", k)
		}
	}
	return nil
}

// Run reads the state of the daemon and of the file, then writes the merged file when it
// differs from the current one.
func (t *daemonConfigTask) Run(ctx context.Context, env *Env) Outcome {
	state, err := readDaemonState(ctx, env, t.service, t.path)
	if err != nil {
		return Failed(err)
	}
	if err := state.checkTarget(t.service, t.path); err != nil {
		return Failed(err)
	}
	prev, err := readFileIfExists(ctx, env, t.path)
	if err != nil {
		return Failed(err)
	}
	var old []byte
	if prev != nil {
		old = prev.Data
	}

	plan, err := t.plan(old, state.commandLine)
	if err != nil {
		return Failed(err)
	}
	if plan.repair == "" && sameJSON(old, plan.data) {
		return t.unchanged(ctx, env, plan, state)
	}
	return t.change(ctx, env, state, prev, plan)
}

// unchanged reports a file that already holds the settings. When the daemon reads that
// file but may not run with it, the outcome is changed, so that the task's notify
// restarts the daemon. Where dockerd has --validate, it checks the file first, because
// someone else may have changed it since the daemon started.
func (t *daemonConfigTask) unchanged(ctx context.Context, env *Env, plan *daemonConfigPlan,
	state *daemonState) Outcome {
	reason := ""
	if t.path == state.commandLine.effectiveConfigFile() {
		reason = state.restartReason()
	}
	if reason == "" {
		return OK(plan.message(false))
	}
	if state.dockerd != "" {
		err := validateDaemonFile(ctx, env.Host, state.dockerd, t.path, plan.data, t.path)
		if err != nil {
			return Failed(fmt.Errorf("%w, and Docker was not restarted", err))
		}
	}

	msg := fmt.Sprintf("already set in %s, but %s: restart needed", t.path, reason)
	if plan.note != "" {
		msg += "; " + plan.note
	}
	return Changed(msg)
}

// change reports the change of the file and, outside check mode, writes it. Where
// dockerd has --validate, it checks the new file first, in check mode too.
func (t *daemonConfigTask) change(ctx context.Context, env *Env, state *daemonState,
	prev *transport.File, plan *daemonConfigPlan) Outcome {
	var old []byte
	if prev != nil {
		old = prev.Data
	}
	out := Changed(plan.message(true))
	out.Diff = unifiedDiff(t.path, old, plan.data)

	if err := state.checkWritable(t.path); err != nil {
		return Failed(err)
	}
	if state.dockerd != "" {
		err := validateDaemonFile(ctx, env.Host, state.dockerd, t.path, plan.data,
			"the new "+t.path)
		if err != nil {
			return Failed(err)
		}
	}
	if env.Check {
		return out
	}
	if err := t.write(ctx, env, prev, plan.data); err != nil {
		return Failed(err)
	}
	return out
}

// daemonConfigPlan is the file a run would write and what it changes.
type daemonConfigPlan struct {
	data    []byte
	set     []string // managed keys whose value changes
	removed []string // keys deleted from the file
	note    string   // the -H flags that meet the hosts setting without the file, or ""
	repair  string   // what makes the current file unreadable for some dockerd, or ""
}

func (p *daemonConfigPlan) message(changed bool) string {
	var parts []string
	if len(p.set) > 0 {
		parts = append(parts, strings.Join(p.set, ", ")+" set")
	}
	if len(p.removed) > 0 {
		parts = append(parts, strings.Join(p.removed, ", ")+" removed")
	}
	if p.repair != "" {
		parts = append(parts, p.repair)
	}
	switch {
	case !changed:
		parts = []string{"already set"}
	case len(parts) == 0:
		parts = []string{"file reformatted"}
	}
	if p.note != "" {
		parts = append(parts, p.note)
	}
	return strings.Join(parts, "; ")
}

// plan merges the settings into the current file and checks that dockerd would start
// with the result.
func (t *daemonConfigTask) plan(old []byte, cmdline *daemonCommandLine) (*daemonConfigPlan, error) {
	if cf := cmdline.configFile(); cf != "" && cf != t.path {
		return nil, fmt.Errorf("%s starts dockerd with --config-file %s, so %s is not read: "+
			"set path to %s", cmdline.Source, cf, t.path, cf)
	}
	current, err := parseJSONObject(old)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w; fix or delete the file (it was left unchanged)",
			t.path, err)
	}

	merged, plan, err := t.merge(current, cmdline)
	if err != nil {
		return nil, err
	}
	if err := checkDaemonDocument(merged); err != nil {
		return nil, fmt.Errorf("%s: %w (the file was left unchanged)", t.path, err)
	}
	if err := checkMergedValues(merged, cmdline); err != nil {
		return nil, fmt.Errorf("%s: %w (the file was left unchanged)", t.path, err)
	}
	if err := checkFlagConflicts(merged, cmdline, t.path); err != nil {
		return nil, err
	}

	plan.data, err = merged.render()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", t.path, err)
	}
	plan.repair = repairNeeded(old)
	return plan, nil
}

// repairNeeded returns what must be fixed in a file that parseJSONObject accepts but
// dockerd 20.10 cannot read ("invalid character 'ï'" for a byte order mark, "EOF" for a
// blank file), or "" for a file that needs no repair. Later releases skip the byte order
// mark, but a rewrite does no harm there.
func repairNeeded(old []byte) string {
	switch {
	case old == nil:
		return ""
	case bytes.HasPrefix(old, []byte("\xef\xbb\xbf")):
		return "byte order mark removed"
	case len(bytes.TrimSpace(old)) == 0:
		return "empty file replaced"
	}
	return ""
}

// merge applies remove and settings to current, and leaves hosts to the -H flag when
// that flag already keeps the API on local sockets.
func (t *daemonConfigTask) merge(current jsonObject, cmdline *daemonCommandLine) (
	jsonObject, *daemonConfigPlan, error) {
	plan := &daemonConfigPlan{}
	settings := t.settings
	if hosts, ok := settings["hosts"]; ok {
		note, err := hostsFromFlags(hosts.([]any), cmdline)
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			plan.note = note
			settings = withoutKey(settings, "hosts")
			current = t.dropKey(current, "hosts", plan)
		}
	}

	merged := current
	for _, k := range t.remove {
		merged = t.dropKey(merged, k, plan)
	}
	for _, k := range sortedKeys(settings) {
		prev, _ := merged.get(k)
		raw, err := mergeJSON(prev, settings[k])
		if err != nil {
			return nil, nil, fmt.Errorf("merge key %q of %s: %w", k, t.path, err)
		}
		if !sameJSON(prev, raw) {
			plan.set = append(plan.set, k)
		}
		merged = merged.with(k, raw)
	}
	return merged, plan, nil
}

// dropKey removes key from obj and records it in plan when it was there.
func (t *daemonConfigTask) dropKey(obj jsonObject, key string, plan *daemonConfigPlan) jsonObject {
	if _, ok := obj.get(key); !ok {
		return obj
	}
	plan.removed = append(plan.removed, key)
	return obj.without(key)
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// write saves the previous content for undo, then replaces the file atomically, owned by
// root with mode 0644.
func (t *daemonConfigTask) write(ctx context.Context, env *Env, prev *transport.File,
	data []byte) error {
	if env.Undo != nil {
		if err := env.Undo.SaveFile(ctx, t.path, prev); err != nil {
			return fmt.Errorf("save %s for undo: %w", t.path, err)
		}
	}
	// The error of WriteFile names the operation and the file already.
	meta := transport.FileMeta{Mode: 0o644, UID: 0, GID: 0}
	return env.Host.WriteFile(ctx, t.path, data, meta)
}
