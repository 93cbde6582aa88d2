# shellcheck shell=bash disable=SC2154 # run.sh sets the variables used here
# full.sh runs the benchmark's own lab of full hosts through test/lab/lab.sh: Debian
# containers with systemd, sshd and their own Docker daemon. run.sh sources it.
#
# The lab gets its own container names, state directory and ports (LAB_NAME, LAB_STATE,
# LAB_PORT_BASE), so it never touches a test lab that runs beside it.

lab() {
	LAB_NAME=$full_lab_name LAB_STATE=$full_state LAB_PORT_BASE=$full_port_base \
		"$repo_dir/test/lab/lab.sh" "$@"
}

# full_fits prints why COUNT more full hosts would not fit in memory, or nothing. A host
# idles at about 150 MiB, and a few GiB are kept for Ansible's forks.
full_fits() {
	local count=$1
	local available_mib need_mib

	available_mib=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
	need_mib=$((count * 160 + 4096))
	if ((available_mib < need_mib)); then
		printf '%s MiB available, %s hosts need about %s MiB\n' "$available_mib" "$count" \
			"$need_mib"
	fi
}

# full_up starts COUNT full hosts and writes their Ansible inventory, which fleetharden
# reads too, and the floor client's targets.
full_up() {
	local count=$1
	local name port

	# lab.sh bounds its wait for each host by LAB_WAIT_SECONDS.
	lab up "$count" || return 1

	{
		printf '# Written by bench/run.sh for the full lab hosts.\nall:\n  vars:\n'
		printf '    docker_users: [alice]\n    ansible_user: fleet\n    ansible_become: true\n'
		printf '    ansible_ssh_private_key_file: %s\n  hosts:\n' "$full_state/id_ed25519"
		while read -r name _ port; do
			printf '    lab%s:\n      ansible_host: 127.0.0.1\n' "${name##*-}"
			printf '      ansible_port: %s\n' "$port"
		done <"$full_state/containers"
	} >"$full_state/bench-inventory.yaml"
	awk '{ print "127.0.0.1", $3 }' "$full_state/containers" >"$full_state/targets"
}

full_down() {
	if [[ -f $full_state/containers ]]; then
		lab down
	fi
}

# full_reset puts every full host back where the built-in playbook finds work to do: no
# daemon.json, alice out of the docker group and dockerd restarted without the settings.
# It works through docker exec, outside the measured runs. reset-failed clears systemd's
# count of recent starts, because Debian's docker.service allows 3 starts in 60 s and a
# reset followed by a run's restart would otherwise reach that limit.
full_reset() {
	local id pids=() pid failed=0

	while read -r _ id _; do
		docker exec "$id" sh -c 'rm -f /etc/docker/daemon.json
			gpasswd -d alice docker >/dev/null 2>&1 || true
			systemctl restart docker &&
			timeout 90 sh -c "until docker info >/dev/null 2>&1; do sleep 0.5; done" &&
			systemctl reset-failed docker.service docker.socket' &
		pids+=("$!")
	done <"$full_state/containers"

	for pid in "${pids[@]}"; do
		wait "$pid" || failed=$((failed + 1))
	done
	((failed == 0)) || die "reset of $failed full hosts failed"
}
