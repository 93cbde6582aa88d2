package tasks

import (
	"context"
	"fmt"
)

func init() {
	Register(&Kind{
		Name: "docker_facts",
		Doc: "Record facts about the running Docker daemon: docker_version, " +
			"docker_storage_driver, docker_logging_driver, docker_cgroup_driver, " +
			"docker_root_dir and docker_security_options. Changes nothing.",
		ReadOnly: true,
		New:      func(Args) (Task, error) { return dockerFactsTask{}, nil },
	})
}

// dockerFactsTask records what `docker info` reports about the daemon. Its read is the
// one verify_containers starts from, so the two share one remote command.
type dockerFactsTask struct{}

// Run reads the daemon's state and records its facts, in check mode too.
func (dockerFactsTask) Run(ctx context.Context, env *Env) Outcome {
	state, err := readDockerState(ctx, env)
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
	out := OK(fmt.Sprintf("Docker %s, storage driver %s, logging driver %s",
		info.ServerVersion, info.Driver, info.LoggingDriver))
	out.Facts = map[string]any{
		"docker_version":          info.ServerVersion,
		"docker_storage_driver":   info.Driver,
		"docker_logging_driver":   info.LoggingDriver,
		"docker_cgroup_driver":    info.CgroupDriver,
		"docker_root_dir":         info.DockerRootDir,
		"docker_security_options": options,
	}
	return out
}

func (dockerFactsTask) sharedReads() []string { return []string{dockerStateKey.kind} }
