package tasks

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// dockerFactNames lists the facts that docker_facts can record, in the order of its
// documentation.
var dockerFactNames = []string{
	"docker_version", "docker_storage_driver", "docker_logging_driver",
	"docker_cgroup_driver", "docker_root_dir", "docker_security_options",
}

var dockerFactsParams = []Param{
	{Name: "facts", Type: TypeStringList, Default: dockerFactNames,
		Doc: "the facts to record, from " + strings.Join(dockerFactNames, ", ") +
			". With docker_version alone, a daemon without running containers is not " +
			"asked for docker info"},
}

func init() {
	Register(&Kind{
		Name: "docker_facts",
		Doc: "Record facts about the running Docker daemon: by default docker_version, " +
			"docker_storage_driver, docker_logging_driver, docker_cgroup_driver, " +
			"docker_root_dir and docker_security_options. Changes nothing.",
		Params:   dockerFactsParams,
		ReadOnly: true,
		New:      newDockerFactsTask,
	})
}

// dockerFactsTask records what docker info reports about the daemon. Its read is the one
// verify_containers starts from, so the two share one remote command.
type dockerFactsTask struct {
	facts []string // the facts to record, without duplicates; nil for all of them
}

func newDockerFactsTask(args Args) (Task, error) {
	t := dockerFactsTask{}
	if !args.Has("facts") {
		return t, nil
	}
	for _, name := range args.Strings("facts") {
		if !slices.Contains(dockerFactNames, name) {
			return nil, fmt.Errorf("facts: invalid fact %q: use one of %s", name,
				strings.Join(dockerFactNames, ", "))
		}
		if !slices.Contains(t.facts, name) {
			t.facts = append(t.facts, name)
		}
	}
	if len(t.facts) == 0 {
		return nil, fmt.Errorf("facts: empty list: name at least one of %s, or leave "+
			"facts out to record them all", strings.Join(dockerFactNames, ", "))
	}
	return t, nil
}

// records returns the facts that t records.
func (t dockerFactsTask) records() []string {
	if t.facts == nil {
		return dockerFactNames
	}
	return t.facts
}

// versionOnly reports whether docker_version is the only fact that t records. The
// Docker state of an idle daemon has that fact without docker info.
func (t dockerFactsTask) versionOnly() bool {
	facts := t.records()
	return len(facts) == 1 && facts[0] == "docker_version"
}

// Run reads the daemon's state and records its facts, in check mode too.
func (t dockerFactsTask) Run(ctx context.Context, env *Env) Outcome {
	state, err := readDockerState(ctx, env, !t.versionOnly())
	if err != nil {
		return Failed(err)
	}
	info := state.info
	if info.ServerVersion == "" {
		return Failed(fmt.Errorf("docker info reported no server version: check that " +
			"dockerd answers on /var/run/docker.sock"))
	}

	options := make([]any, len(info.SecurityOptions))
	for i, opt := range info.SecurityOptions {
		options[i] = opt
	}
	all := map[string]any{
		"docker_version":          info.ServerVersion,
		"docker_storage_driver":   info.Driver,
		"docker_logging_driver":   info.LoggingDriver,
		"docker_cgroup_driver":    info.CgroupDriver,
		"docker_root_dir":         info.DockerRootDir,
		"docker_security_options": options,
	}
	facts := map[string]any{}
	for _, name := range t.records() {
		facts[name] = all[name]
	}

	message := "Docker " + info.ServerVersion
	if slices.Contains(t.records(), "docker_storage_driver") {
		message += ", storage driver " + info.Driver
	}
	if slices.Contains(t.records(), "docker_logging_driver") {
		message += ", logging driver " + info.LoggingDriver
	}
	out := OK(message)
	out.Facts = facts
	return out
}

func (t dockerFactsTask) sharedReads() []string {
	if t.versionOnly() {
		return []string{dockerStateKey.kind}
	}
	return []string{dockerStateKey.kind, dockerInfoKey.kind}
}
