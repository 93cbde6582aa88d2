#!/usr/bin/env bash
# lab.sh builds and runs the fleetharden test lab: Debian 12 hosts that boot
# systemd, sshd and their own Docker daemon inside containers on this machine,
# each reachable over SSH on a 127.0.0.1 port. Run "lab.sh help" for usage.
set -euo pipefail

lab_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$lab_dir/../.." && pwd)

state_dir=$(realpath -m "${LAB_STATE:-$lab_dir/.state}")
name_prefix=${LAB_NAME:-fleetharden-lab}-
host_count=${LAB_HOSTS:-3}
port_base=${LAB_PORT_BASE:-22001}
wait_seconds=${LAB_WAIT_SECONDS:-180}
cache_dir=${LAB_CACHE:-/var/cache/fleetharden-lab}
dockerd_log=${LAB_DOCKERD_LOG:-/var/log/fleetharden-lab-dockerd.log}

readonly suite=bookworm
readonly host_image=fleetharden-lab-host:bookworm
readonly workload_image=fleetharden-lab-workload:latest
readonly lab_label=org.fleetharden.lab
readonly recipe_label=org.fleetharden.lab.recipe
readonly become_password=labsudo-pw

# host_packages lists what debootstrap installs on a lab host: a Debian server
# that runs Docker, with the everyday tools such a server has.
readonly host_packages=(
	openssh-server sudo docker.io systemd systemd-sysv dbus iproute2 procps
	ca-certificates apt-utils libpam-systemd iptables kmod netbase tzdata
	cron logrotate less curl gnupg python3
)

# run_flags boot systemd as PID 1 with a working nested Docker daemon without
# --privileged. The anonymous volume on /var/lib/docker gives the inner daemon
# a file system that overlay2 accepts.
readonly run_flags=(
	--cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add MKNOD --cap-add SYS_PTRACE
	--cap-add NET_RAW --cap-add SYS_MODULE --cap-add IPC_LOCK
	--cap-add DAC_READ_SEARCH --cap-add AUDIT_CONTROL
	--security-opt seccomp=unconfined --security-opt apparmor=unconfined
	--cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw
	--tmpfs /run --tmpfs /run/lock --tmpfs /tmp
	-v /var/lib/docker -e container=docker
)

log() {
	printf 'lab: %s\n' "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

usage() {
	cat <<EOF
Usage: lab.sh COMMAND [ARGS]

Commands:
  deps          install Docker, debootstrap and the SSH client; start dockerd
  image         build $host_image and $workload_image (skipped when current)
  up [N]        start N lab hosts (default \$LAB_HOSTS or 3) and write the inventory
  down          remove the hosts this lab started and its runtime files
  status        list the lab hosts with their ports and memory use
  ssh N [CMD]   log in to host N as fleet, or run CMD there
  exec N CMD    run CMD in host N with docker exec, as root

Environment:
  LAB_HOSTS         number of hosts for "up" (default 3)
  LAB_STATE         state directory (default test/lab/.state)
  LAB_NAME          container name prefix, for a second lab beside the first
                    (default fleetharden-lab: hosts fleetharden-lab-1 and up)
  LAB_PORT_BASE     first 127.0.0.1 port to try for sshd (default 22001)
  LAB_WAIT_SECONDS  seconds to wait for each host's sshd and Docker (default 180)
  LAB_APT_MIRROR    Debian mirror for debootstrap (default: this machine's)
  LAB_CACHE         package cache for debootstrap (default /var/cache/fleetharden-lab)
  LAB_DOCKERD_LOG   log file of a dockerd that "deps" starts
EOF
}

# wait_until runs a command every second until it succeeds, and fails once
# the given number of seconds has passed.
wait_until() {
	local seconds=$1
	shift
	local deadline=$((SECONDS + seconds))

	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			return 1
		fi
		sleep 1
	done
}

ensure_go() {
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		PATH=/usr/local/go/bin:$PATH
	fi
	command -v go >/dev/null || die "go not found in PATH or /usr/local/go/bin"
}

# lock_lab serializes commands that change the lab's images or containers,
# because the container names and images are shared by every checkout.
lock_lab() {
	mkdir -p "$cache_dir"
	exec 9>"$cache_dir/lock"
	flock -w 900 9 || die "another lab.sh held $cache_dir/lock for 15 minutes"
}

# shellcheck source=test/lab/lib/deps.sh
source "$lab_dir/lib/deps.sh"
# shellcheck source=test/lab/lib/image.sh
source "$lab_dir/lib/image.sh"
# shellcheck source=test/lab/lib/hosts.sh
source "$lab_dir/lib/hosts.sh"

main() {
	local command=${1:-help}
	shift || true

	case $command in
	deps) cmd_deps ;;
	image) lock_lab && cmd_image ;;
	up) lock_lab && cmd_up "${1:-$host_count}" ;;
	down) lock_lab && cmd_down ;;
	status) cmd_status ;;
	ssh) cmd_ssh "$@" ;;
	exec) cmd_exec "$@" ;;
	help | -h | --help) usage ;;
	*)
		usage >&2
		die "unknown command: $command"
		;;
	esac
}

main "$@"
