# The probes of fleetharden audit: each prints its standard output, standard error and exit
# status into one JSON object. They change nothing on the host. audit/gather.go puts the
# functions of probe.sh and the variables stat_format and stat_paths in front of this.

# inspect_format selects the fields of docker inspect that the audit reads, so that a host
# with thousands of containers still fits the 4 MiB of output that fleetharden keeps.
inspect_format='{"Id":{{json .Id}},"Name":{{json .Name}},'\
'"AppArmorProfile":{{json .AppArmorProfile}},"Config":{"Image":{{json .Config.Image}}},'\
'"HostConfig":{"Privileged":{{json .HostConfig.Privileged}},'\
'"CapAdd":{{json .HostConfig.CapAdd}},"CapDrop":{{json .HostConfig.CapDrop}},'\
'"SecurityOpt":{{json .HostConfig.SecurityOpt}},'\
'"NetworkMode":{{json .HostConfig.NetworkMode}},"PidMode":{{json .HostConfig.PidMode}},'\
'"IpcMode":{{json .HostConfig.IpcMode}},"UTSMode":{{json .HostConfig.UTSMode}},'\
'"UsernsMode":{{json .HostConfig.UsernsMode}},'\
'"ReadonlyRootfs":{{json .HostConfig.ReadonlyRootfs}},'\
'"Memory":{{json .HostConfig.Memory}},"PidsLimit":{{json .HostConfig.PidsLimit}}},'\
'"Mounts":{{json .Mounts}}}'

# running_containers prints the inspected running containers, one JSON object a line. A
# container that stops between ps and inspect makes inspect fail while it still prints the
# others, so its status is ignored.
running_containers() {
	ids=$(docker ps -q --no-trunc) || return
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086 # one word per id
		docker inspect --format "$inspect_format" $ids
	fi
	return 0
}

# dockerd_cmdline prints the arguments of the running dockerd, one a line: the process
# systemd started for docker.service, else the first process named dockerd.
dockerd_cmdline() {
	pid=$(systemctl show -p MainPID --value docker.service 2>/dev/null)
	if [ -z "$pid" ] || [ "$pid" = 0 ]; then
		pid=$(pgrep -x dockerd 2>/dev/null || pidof dockerd 2>/dev/null)
		pid=${pid%%[!0-9]*}
	fi
	if [ -z "$pid" ]; then
		echo 'no dockerd process found' >&2
		return 1
	fi
	tr '\000' '\n' <"/proc/$pid/cmdline"
}

# docker_group_users prints the users whose primary group is docker.
docker_group_users() {
	gid=$(getent group docker | cut -d: -f3)
	[ -n "$gid" ] || return 0
	getent passwd | awk -F: -v gid="$gid" '$4 == gid { print $1 }'
}

# The fragment paths of the units are needed before the stat probe, which runs on them.
units=$(systemctl show -p FragmentPath --value docker.service docker.socket 2>/dev/null)

printf '{"format":1,'
# docker info comes first: with socket activation it starts dockerd, which the other
# probes then find.
probe docker_info docker info --format '{{json .}}'
probe containers running_containers
probe bridge docker network inspect bridge
probe dockerd_cmdline dockerd_cmdline
probe service systemctl show -p ExecStart -p FragmentPath -p MainPID docker.service
probe socket systemctl show -p Listen -p FragmentPath docker.socket
probe listeners ss -Hltnp
probe daemon_json cat /etc/docker/daemon.json
# shellcheck disable=SC2086 # the paths are words without blanks
probe stat stat -L -c "$stat_format" -- $stat_paths $units
probe docker_group getent group docker
probe docker_group_users docker_group_users
printf '"end":true}\n'
