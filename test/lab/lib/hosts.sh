# shellcheck shell=bash disable=SC2154 # lab.sh sets the variables used here
# hosts.sh starts, lists, enters and removes the lab hosts. lab.sh sources it.
#
# The state directory records the hosts of the running lab in "containers",
# one "NAME ID PORT" line per host, and contains the client key, known_hosts,
# inventory.yaml and become-pass that tests read.

containers_file() {
	printf '%s/containers\n' "$state_dir"
}

host_name() {
	printf '%s%s\n' "$name_prefix" "$1"
}

# recorded_field prints field 2 (id) or 3 (port) of host N's record.
recorded_field() {
	local index=$1 field=$2
	local file

	file=$(containers_file)
	[[ -f $file ]] || die "no lab is recorded in $state_dir; run lab.sh up first"
	awk -v name="$(host_name "$index")" -v field="$field" \
		'$1 == name { print $field; found = 1 } END { exit !found }' "$file" ||
		die "host $index is not in $file"
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port prints the first port from $1 on that nothing listens on and that
# no earlier host of this run took (listed in $2).
free_port() {
	local port=$1 taken=$2
	local last=$((port + 1000))

	for (( ; port < last; port++)); do
		if [[ " $taken " != *" $port "* ]] && ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return
		fi
	done
	die "no free 127.0.0.1 port in $1-$((last - 1)); set LAB_PORT_BASE"
}

# inspect_lab_container prints "ID NAME" of a container that carries the
# lab's host label, prints nothing when no such container exists, and fails on
# a container without that label, so a name clash never removes a container
# that the lab did not start.
inspect_lab_container() {
	local container=$1
	local details id name kind

	if ! details=$(docker inspect --format \
		"{{.Id}} {{.Name}} {{index .Config.Labels \"$lab_label\"}}" "$container" 2>/dev/null)
	then
		return 0
	fi
	read -r id name kind <<<"$details"
	if [[ $kind != host ]]; then
		die "container ${name#/} is not a lab host ($lab_label=$kind); remove it yourself"
	fi
	printf '%s %s\n' "$id" "${name#/}"
}

# remove_lab_container removes a lab host with its anonymous volumes.
remove_lab_container() {
	local details id name

	details=$(inspect_lab_container "$1")
	[[ -n $details ]] || return 0
	read -r id name <<<"$details"

	docker rm -f -v "$id" >/dev/null
	log "removed container $name (${id:0:12})"
}

# remove_stale_hosts removes the hosts recorded in the state directory and any
# lab host left under the names this run is about to use, which happens when
# an earlier run was killed before "down". It checks every name before it
# removes anything.
remove_stale_hosts() {
	local count=$1
	local file index name id names=()

	for ((index = 1; index <= count; index++)); do
		names+=("$(host_name "$index")")
	done
	for name in "${names[@]}"; do
		inspect_lab_container "$name" >/dev/null
	done

	file=$(containers_file)
	if [[ -f $file ]]; then
		while read -r name id _; do
			remove_lab_container "$id"
		done <"$file"
		rm -f "$file"
	fi
	for name in "${names[@]}"; do
		remove_lab_container "$name"
	done
}

create_client_key() {
	rm -f "$state_dir/id_ed25519" "$state_dir/id_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -C fleetharden-lab -f "$state_dir/id_ed25519"

	(umask 077 && printf '%s' "$become_password" >"$state_dir/become-pass")
}

start_host() {
	local index=$1 port=$2
	local name id

	name=$(host_name "$index")
	id=$(docker run -d --name "$name" --hostname "lab$index" \
		--label "$lab_label.state=$state_dir" \
		-p "127.0.0.1:$port:22" "${run_flags[@]}" "$host_image")

	printf '%s %s %s\n' "$name" "$id" "$port" >>"$(containers_file)"
	log "started $name on 127.0.0.1:$port"
}

# authorize_client_key installs the lab's public key for fleet and fleetpw.
authorize_client_key() {
	local name=$1
	local key

	key=$(cat "$state_dir/id_ed25519.pub")
	# shellcheck disable=SC2016 # the script is expanded by the host's sh
	docker exec "$name" sh -euc '
		for user in fleet fleetpw; do
			dir=/home/$user/.ssh
			install -d -m 0700 -o "$user" -g "$user" "$dir"
			printf "%s\n" "$1" >"$dir/authorized_keys"
			chown "$user:$user" "$dir/authorized_keys"
			chmod 0600 "$dir/authorized_keys"
		done' sh "$key"
}

scan_host_keys() {
	ssh-keyscan -T 5 -t rsa,ecdsa,ed25519 -p "$1" 127.0.0.1 2>/dev/null | grep -q .
}

inner_docker_ready() {
	docker exec "$1" timeout 10 docker info
}

# report_unit prints the end of a unit's journal on a host, for a failure.
report_unit() {
	local name=$1 unit=$2

	log "last journal lines of $unit on $name:"
	docker exec "$name" journalctl -u "$unit" --no-pager -n 30 >&2 || true
}

wait_for_host() {
	local name=$1 port=$2

	if ! wait_until "$wait_seconds" scan_host_keys "$port"; then
		report_unit "$name" ssh.service
		die "$name: timed out after $wait_seconds s waiting for sshd on 127.0.0.1:$port"
	fi
	if ! wait_until "$wait_seconds" inner_docker_ready "$name"; then
		report_unit "$name" docker.service
		die "$name: timed out after $wait_seconds s waiting for its Docker daemon"
	fi
}

ssh_options() {
	printf '%s\n' -i "$state_dir/id_ed25519" -o IdentitiesOnly=yes \
		-o UserKnownHostsFile="$state_dir/known_hosts" -o StrictHostKeyChecking=yes \
		-o ConnectTimeout=10
}

# check_login logs in to a host the way tests do, so "up" fails early when the
# key, known_hosts or sudo setup is wrong.
check_login() {
	local name=$1 port=$2
	local options

	mapfile -t options < <(ssh_options)
	if ! ssh "${options[@]}" -o BatchMode=yes -p "$port" fleet@127.0.0.1 sudo -n true \
		</dev/null; then
		report_unit "$name" ssh.service
		die "$name: ssh fleet@127.0.0.1 -p $port with the lab key failed"
	fi
}

write_known_hosts() {
	local name port

	: >"$state_dir/known_hosts.new"
	while read -r name _ port; do
		ssh-keyscan -T 5 -t rsa,ecdsa,ed25519 -p "$port" 127.0.0.1 \
			>>"$state_dir/known_hosts.new" 2>/dev/null ||
			die "$name: ssh-keyscan of 127.0.0.1:$port failed"
	done <"$(containers_file)"
	mv "$state_dir/known_hosts.new" "$state_dir/known_hosts"
}

write_inventory() {
	local name port

	{
		printf '# Written by test/lab/lab.sh up; rewritten on every run.\n'
		printf 'vars:\n  docker_users: [alice]\ngroups:\n  lab:\n    vars: {}\n    hosts:\n'
		while read -r name _ port; do
			printf '      lab%s:\n' "${name#"$name_prefix"}"
			printf '        address: 127.0.0.1\n        port: %s\n' "$port"
			printf '        user: fleet\n        key: %s\n' "$state_dir/id_ed25519"
			printf '        become: true\n'
		done <"$(containers_file)"
	} >"$state_dir/inventory.yaml"
}

prepare_state_dir() {
	mkdir -p "$state_dir"
	chmod 0700 "$state_dir"

	if [[ ! -f $state_dir/workload.tar ]]; then
		docker image inspect "$workload_image" >/dev/null 2>&1 ||
			die "image $workload_image not found; run lab.sh image first"
		docker save -o "$state_dir/workload.tar" "$workload_image"
	fi
}

start_hosts() {
	local count=$1
	local index port taken=''

	for ((index = 1; index <= count; index++)); do
		port=$(free_port "$port_base" "$taken")
		taken+=" $port"
		start_host "$index" "$port"
		authorize_client_key "$(host_name "$index")"
	done
}

# raise_inotify_limit lifts the number of inotify instances a user may hold. systemd and
# dockerd in every lab host take several, all counted for root, and at the default of
# 128 a machine with about 20 lab hosts leaves the next ones stuck while booting.
raise_inotify_limit() {
	local file=/proc/sys/fs/inotify/max_user_instances

	if (($(cat "$file") >= 8192)); then
		return 0
	fi
	if [[ ! -w $file ]]; then
		log "warning: fs.inotify.max_user_instances is $(cat "$file"); raise it to 8192 as root if hosts hang while booting"
		return 0
	fi
	log "raising fs.inotify.max_user_instances from $(cat "$file") to 8192"
	printf '8192\n' >"$file"
}

cmd_up() {
	local count=$1
	local started=$SECONDS name port

	[[ $count =~ ^[1-9][0-9]*$ ]] || die "host count must be a positive integer: $count"
	docker_ready || die "no Docker daemon is running; run lab.sh deps first"
	docker image inspect "$host_image" >/dev/null 2>&1 ||
		die "image $host_image not found; run lab.sh image first"

	raise_inotify_limit
	prepare_state_dir
	remove_stale_hosts "$count"
	create_client_key
	start_hosts "$count"

	while read -r name _ port; do
		wait_for_host "$name" "$port"
		docker exec -i "$name" docker load -q <"$state_dir/workload.tar" >/dev/null
		log "$name is up"
	done <"$(containers_file)"

	write_known_hosts
	while read -r name _ port; do
		check_login "$name" "$port"
	done <"$(containers_file)"
	write_inventory
	log "lab of $count hosts up in $((SECONDS - started)) s; inventory: $state_dir/inventory.yaml"
}

cmd_down() {
	local file name id

	file=$(containers_file)
	if [[ -f $file ]]; then
		while read -r name id _; do
			remove_lab_container "$id"
		done <"$file"
	else
		log "no hosts recorded in $state_dir"
	fi

	rm -f "$file" "$state_dir/inventory.yaml" "$state_dir/known_hosts" \
		"$state_dir/known_hosts.new" "$state_dir/id_ed25519" "$state_dir/id_ed25519.pub" \
		"$state_dir/become-pass"
}

# host_memory prints two numbers in MiB for a host: the memory charged to its
# cgroup, page cache included, and the resident part of that. It reads the
# cgroup files because docker stats (Docker 20.10 on cgroup v1) printed 0 B for
# some running lab hosts.
host_memory() {
	local id=$1
	local dir

	for dir in "/sys/fs/cgroup/memory/docker/$id" "/sys/fs/cgroup/system.slice/docker-$id.scope"; do
		if [[ -r $dir/memory.usage_in_bytes ]]; then
			awk -v total="$(cat "$dir/memory.usage_in_bytes")" '$1 == "total_rss" {
				printf "%d %d\n", total / 1048576, $2 / 1048576 }' "$dir/memory.stat"
			return
		fi
		if [[ -r $dir/memory.current ]]; then
			awk -v total="$(cat "$dir/memory.current")" '$1 == "anon" {
				printf "%d %d\n", total / 1048576, $2 / 1048576 }' "$dir/memory.stat"
			return
		fi
	done
	printf '? ?\n'
}

cmd_status() {
	local file name id port state total resident

	file=$(containers_file)
	printf 'state directory: %s\n' "$state_dir"
	if [[ ! -f $file ]]; then
		printf 'no hosts recorded\n'
		return
	fi

	printf 'inventory: %s\n\n' "$state_dir/inventory.yaml"
	printf '%-22s %-16s %-10s %12s %9s\n' NAME ADDRESS STATE 'MEMORY MiB' 'RSS MiB'
	while read -r name id port; do
		state=$(docker inspect --format '{{.State.Status}}' "$id" 2>/dev/null || echo missing)
		read -r total resident < <(host_memory "$id")
		printf '%-22s %-16s %-10s %12s %9s\n' "$name" "127.0.0.1:$port" "$state" \
			"$total" "$resident"
	done <"$file"
}

cmd_ssh() {
	(($# >= 1)) || die "usage: lab.sh ssh N [CMD...]"
	local index=$1
	shift
	local port options

	port=$(recorded_field "$index" 3)
	mapfile -t options < <(ssh_options)
	exec ssh "${options[@]}" -p "$port" fleet@127.0.0.1 "$@"
}

cmd_exec() {
	(($# >= 2)) || die "usage: lab.sh exec N CMD..."
	local index=$1
	shift
	local id tty=()

	id=$(recorded_field "$index" 2)
	if [[ -t 0 && -t 1 ]]; then
		tty=(-t)
	fi
	exec docker exec -i "${tty[@]}" "$id" "$@"
}
