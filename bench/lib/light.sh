# shellcheck shell=bash disable=SC2154 # run.sh sets the variables used here
# light.sh starts and stops light hosts: one OpenSSH sshd per host on a 127.0.0.1 port.
# Each runs in mount and PID namespaces of its own, with a tmpfs over /etc/docker and /tmp.
# So every host has its own daemon.json and its own host lock (/tmp/fleetharden-USER.lock),
# but no Docker daemon. run.sh sources it.
#
# Users log in as light_user, a plain account with /bin/sh as its shell, because root's
# shell startup files on a build machine can cost about 100 ms per command. The user
# cannot become root, so every host starts already hardened: /etc/docker/daemon.json holds
# what bench/light-playbook.yaml sets, owned by root, and a run changes nothing.

readonly light_user=fleetharden-bench
readonly light_home=/var/lib/fleetharden-bench

# light_seed is the daemon.json every light host starts with, byte for byte what
# fleetharden and Ansible write for the settings of light-playbook.yaml.
light_seed() {
	cat <<'EOF'
{
  "log-driver": "json-file",
  "log-opts": {
    "max-file": "3",
    "max-size": "10m"
  },
  "no-new-privileges": true
}
EOF
}

light_ensure_user() {
	if ! id "$light_user" >/dev/null 2>&1; then
		useradd --system --create-home --home-dir "$light_home" --shell /bin/sh "$light_user"
	fi
	# "*" matches no password but, unlike the "!" that useradd sets, does not lock the
	# account, which sshd without PAM would reject.
	usermod --password '*' "$light_user"
}

# light_write_config writes the sshd configuration shared by every light host, the
# client key and its authorized_keys file.
light_write_config() {
	local dir=$1

	mkdir -p "$dir/hostkeys"
	if [[ ! -f $dir/id_ed25519 ]]; then
		ssh-keygen -q -t ed25519 -N '' -C fleetharden-bench -f "$dir/id_ed25519"
	fi
	install -m 0644 "$dir/id_ed25519.pub" "$dir/authorized_keys"
	light_seed >"$dir/daemon.json"

	cat >"$dir/sshd_config" <<EOF
# Written by bench/run.sh for its light hosts.
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $light_user
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
StrictModes no
PrintMotd no
MaxStartups 100:30:200
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# light_host_key creates host N's own Ed25519 host key once.
light_host_key() {
	local dir=$1 index=$2
	local key=$dir/hostkeys/$index

	if [[ ! -f $key ]]; then
		ssh-keygen -q -t ed25519 -N '' -C "light$index" -f "$key"
	fi
}

# light_ports prints COUNT free 127.0.0.1 ports from BASE on, skipping those in use.
light_ports() {
	local count=$1 port=$2
	local used

	used=" $(ss -Htln | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }') "
	while ((count > 0)); do
		if ((port >= 32768)); then
			die "no $1 free ports below 32768 from the light port base; set LIGHT_PORT_BASE"
		fi
		if [[ $used != *" $port "* ]]; then
			printf '%s\n' "$port"
			((count--))
		fi
		((port++))
	done
}

# light_start_one starts host N's sshd in mount and PID namespaces of its own and prints
# the pid of unshare, which kills sshd when it ends. With its own /proc a host lists only
# its own processes, so a pidof on it costs what it costs on a small server rather than a
# scan of every process on this machine.
light_start_one() {
	local dir=$1 index=$2 port=$3

	# shellcheck disable=SC2016 # the script is expanded by the host's sh
	unshare --mount --propagation private --pid --fork --mount-proc --kill-child \
		/bin/sh -c '
		mount -t tmpfs -o size=1m,mode=0755 fleetharden-bench /etc/docker &&
		mount -t tmpfs -o size=4m,mode=1777 fleetharden-bench /tmp &&
		install -m 0644 "$1/daemon.json" /etc/docker/daemon.json &&
		exec /usr/sbin/sshd -D -e -f "$1/sshd_config" -p "$3" -h "$1/hostkeys/$2" \
			-o ListenAddress=127.0.0.1' sh "$dir" "$index" "$port" \
		</dev/null >/dev/null 2>>"$dir/sshd.log" &
	printf '%s\n' "$!"
}

# light_wait waits until COUNT ports of the file listen, for at most SECONDS.
light_wait() {
	local ports_file=$1 seconds=$2
	local deadline=$((SECONDS + seconds)) want listening

	want=$(wc -l <"$ports_file")
	while :; do
		listening=$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' |
			grep -cxFf "$ports_file" || true)
		((listening >= want)) && return 0
		if ((SECONDS >= deadline)); then
			die "only $listening of $want light hosts listen after $seconds s; see sshd.log"
		fi
		sleep 0.5
	done
}

# light_up starts COUNT light hosts and writes their inventory, targets and known_hosts
# into DIR.
light_up() {
	local dir=$1 count=$2
	local index port

	light_ensure_user
	light_write_config "$dir"
	mkdir -p /run/sshd
	light_ports "$count" "$light_port_base" >"$dir/ports"

	: >"$dir/pids"
	index=0
	while read -r port; do
		((++index))
		light_host_key "$dir" "$index"
		light_start_one "$dir" "$index" "$port" >>"$dir/pids"
	done <"$dir/ports"
	light_wait "$dir/ports" 120

	light_write_known_hosts "$dir"
	light_write_inventory "$dir"
	awk '{ print "127.0.0.1", $1 }' "$dir/ports" >"$dir/targets"
	log "$count light hosts up on 127.0.0.1:$(head -1 "$dir/ports")-$(tail -1 "$dir/ports")"
}

light_write_known_hosts() {
	local dir=$1
	local index=0 port

	while read -r port; do
		((++index))
		printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$dir/hostkeys/$index.pub")"
	done <"$dir/ports" >"$dir/known_hosts"
}

# light_write_inventory writes an Ansible YAML inventory, which fleetharden reads too.
light_write_inventory() {
	local dir=$1
	local index=0 port

	{
		printf '# Written by bench/run.sh for its light hosts.\nall:\n  vars:\n'
		printf '    ansible_user: %s\n' "$light_user"
		printf '    ansible_ssh_private_key_file: %s\n' "$dir/id_ed25519"
		printf '  hosts:\n'
		while read -r port; do
			((++index))
			printf '    light%s:\n      ansible_host: 127.0.0.1\n' "$index"
			printf '      ansible_port: %s\n' "$port"
		done <"$dir/ports"
	} >"$dir/inventory.yaml"
}

# light_down stops the sshd processes that light_up started, by their recorded pids.
# unshare --fork blocks SIGTERM while it waits for its child, so it gets SIGKILL, and
# --kill-child then sends SIGKILL to sshd.
light_down() {
	local dir=$1
	local pid

	[[ -f $dir/pids ]] || return 0
	while read -r pid; do
		kill -KILL "$pid" 2>/dev/null || true
	done <"$dir/pids"
	rm -f "$dir/pids"
}
