# shellcheck shell=bash disable=SC2154 # run.sh sets the variables used here
# tools.sh runs the three tools on one fleet and contains the benchmark's steps for full
# and light hosts. run.sh sources it.

# Time limits, in seconds, of one run of each tool.
readonly floor_limit=300
readonly fleetharden_limit=900
readonly ansible_limit=1800

# use_fleet makes the fleet the target of the measure_* functions. Arguments: label,
# host count, inventory, known_hosts, floor targets, login user, private key.
use_fleet() {
	fleet_label=$1 fleet_hosts=$2 fleet_inventory=$3 fleet_known_hosts=$4
	fleet_targets=$5 fleet_user=$6 fleet_key=$7

	export ANSIBLE_CONFIG=$bench_dir/ansible/ansible.cfg
	export ANSIBLE_HOME=$work_dir/ansible-home
	export ANSIBLE_LOCAL_TEMP=$work_dir/ansible-home/tmp
	export ANSIBLE_SSH_CONTROL_PATH_DIR=$work_dir/cp
	export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=30m \
-o UserKnownHostsFile=$fleet_known_hosts -o StrictHostKeyChecking=yes -o ConnectTimeout=30"
	export FLEETHARDEN_STATE_DIR=$work_dir/fleetharden-state
	mkdir -p "$ANSIBLE_LOCAL_TEMP" "$ANSIBLE_SSH_CONTROL_PATH_DIR"
}

# measure_fleetharden runs fleetharden with its default forks unless BENCH_FLEETHARDEN_FORKS
# sets them. With 1,000 forks on this 2-core machine the servers fall so far behind that
# handshakes near the 10 s connect timeout fail, while 100 forks lose no host.
measure_fleetharden() {
	local phase=$1 rep=$2 playbook=$3
	local forks=()

	if [[ -n $fleetharden_forks ]]; then
		forks=(--forks "$fleetharden_forks")
	fi
	measure "$fleet_label" "$fleet_hosts" "$phase" fleetharden "$rep" "$fleetharden_limit" \
		"$out_dir/bin/fleetharden" run -i "$fleet_inventory" --known-hosts "$fleet_known_hosts" \
		"${forks[@]}" --json "$raw_dir/$fleet_label-$phase-fleetharden-$rep.json" "$playbook"
}

measure_ansible() {
	local phase=$1 rep=$2 playbook=$3

	measure "$fleet_label" "$fleet_hosts" "$phase" ansible "$rep" "$ansible_limit" \
		ansible-playbook -i "$fleet_inventory" --forks "$fleet_hosts" "$playbook"
}

measure_floor() {
	local phase=$1 rep=$2

	measure "$fleet_label" "$fleet_hosts" "$phase" floor "$rep" "$floor_limit" \
		"$out_dir/bin/floor" -targets "$fleet_targets" -user "$fleet_user" -key "$fleet_key" \
		-known-hosts "$fleet_known_hosts"
}

# stop_ssh_masters ends the SSH master connections that Ansible's ControlPersist left.
stop_ssh_masters() {
	local socket

	for socket in "$work_dir"/cp/*; do
		[[ -S $socket ]] || continue
		ssh -o ControlPath="$socket" -O exit fleetharden-bench >/dev/null 2>&1 || true
	done
}

# skip_size records a fleet size that could not run, with the reason.
skip_size() {
	local label=$1 hosts=$2 reason=$3

	printf '%s\t%s\tsteady\t-\t-\t-\t-\t-\t-\t-\t-\t-\tskipped: %s\n' "$label" "$hosts" \
		"$reason" >>"$results"
	log "$label skipped: $reason"
}

# steady_reps runs the tools in turn, the order alternating from one repetition to the
# next so that neither always runs on hosts the other has just warmed. Arguments: the
# phase, the fleetharden playbook, then the Ansible playbook or "" to leave Ansible out.
steady_reps() {
	local phase=$1 playbook=$2 ansible_playbook=$3
	local rep

	for ((rep = 1; rep <= reps; rep++)); do
		measure_floor "$phase" "$rep"
		if ((rep % 2 == 1)) || [[ -z $ansible_playbook ]]; then
			measure_fleetharden "$phase" "$rep" "$playbook"
			[[ -z $ansible_playbook ]] || measure_ansible "$phase" "$rep" "$ansible_playbook"
		else
			measure_ansible "$phase" "$rep" "$ansible_playbook"
			measure_fleetharden "$phase" "$rep" "$playbook"
		fi
	done
}

# first_reps_full times runs from a reset state: before each run every host loses its
# daemon.json and alice's docker membership, so the run writes, adds and restarts.
first_reps_full() {
	local rep tool order

	for ((rep = 1; rep <= first_reps; rep++)); do
		order=(fleetharden ansible)
		if ((rep % 2 == 0)); then
			order=(ansible fleetharden)
		fi
		for tool in "${order[@]}"; do
			full_reset
			if [[ $tool == fleetharden ]]; then
				measure_fleetharden first "$rep" "$bench_dir/full-playbook.yaml"
			else
				measure_ansible first "$rep" "$bench_dir/ansible/full.yml"
			fi
		done
	done
}

# apt_reps_full times apt-get update alone. Ansible's apt module installs python3-apt on
# its first run, which the warm-up run absorbs.
apt_reps_full() {
	local rep

	((apt_reps > 0)) || return 0
	measure_fleetharden warmup 0-apt "$bench_dir/apt-playbook.yaml"
	measure_ansible warmup 0-apt "$bench_dir/ansible/apt.yml"
	for ((rep = 1; rep <= apt_reps; rep++)); do
		measure_fleetharden apt "$rep" "$bench_dir/apt-playbook.yaml"
		measure_ansible apt "$rep" "$bench_dir/ansible/apt.yml"
	done
}

# smallest prints the smallest of the given sizes.
smallest() {
	printf '%s\n' "$@" | sort -n | head -1
}

bench_full() {
	local count=$1
	local label=full$count reason

	reason=$(full_fits "$count")
	if [[ -n $reason ]]; then
		skip_size "$label" "$count" "$reason"
		return
	fi
	log "starting $count full hosts"
	if ! full_up "$count"; then
		skip_size "$label" "$count" "lab.sh up $count failed; see the log above"
		return
	fi
	use_fleet "$label" "$count" "$full_state/bench-inventory.yaml" "$full_state/known_hosts" \
		"$full_state/targets" fleet "$full_state/id_ed25519"

	# The first runs harden a fresh lab and open Ansible's master connections.
	measure_fleetharden warmup 0 "$bench_dir/full-playbook.yaml"
	measure_ansible warmup 0 "$bench_dir/ansible/full.yml"
	steady_reps steady "$bench_dir/full-playbook.yaml" "$bench_dir/ansible/full.yml"

	# shellcheck disable=SC2086 # full_sizes is a list of numbers
	if ((count == $(smallest $full_sizes))); then
		first_reps_full
		apt_reps_full
	fi
	stop_ssh_masters
}

bench_light() {
	local count=$1
	local label=light$count rep

	log "starting $count light hosts"
	light_down "$light_dir"
	light_up "$light_dir" "$count"
	use_fleet "$label" "$count" "$light_dir/inventory.yaml" "$light_dir/known_hosts" \
		"$light_dir/targets" "$light_user" "$light_dir/id_ed25519"

	# docker_daemon_config reports a restart needed on a host where dockerd is not
	# running, so the light hosts never report ok. The login user cannot write
	# daemon.json, so a host that ended ok or changed was only read: phase "readonly".
	measure_fleetharden warmup 0 "$bench_dir/light-playbook.yaml"
	steady_reps readonly "$bench_dir/light-playbook.yaml" ''
	# One cold Ansible run: it takes minutes, and fleetharden too opens every connection
	# anew on each run.
	if ((count <= ansible_light_max)); then
		for ((rep = 1; rep <= ansible_light_reps; rep++)); do
			measure_ansible readonly "$rep" "$bench_dir/ansible/light.yml"
		done
	fi

	stop_ssh_masters
	light_down "$light_dir"
}
