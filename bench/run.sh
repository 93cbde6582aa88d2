#!/usr/bin/env bash
# run.sh benchmarks fleetharden against Ansible and against a floor: a minimal Go SSH
# client that connects to every host at once and runs one command. It builds the hosts,
# runs the tools in turn several times on each fleet size and writes results.tsv and
# summary.md. Run "bench/run.sh --help" for usage; BENCHMARKS.md has the results.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$bench_dir/.." && pwd)

reps=${BENCH_REPS:-5}
first_reps=${BENCH_FIRST_REPS:-3}
apt_reps=${BENCH_APT_REPS:-3}
full_sizes=${BENCH_FULL_SIZES-10 50}
light_sizes=${BENCH_LIGHT_SIZES-200 500 1000}
ansible_light_max=${BENCH_ANSIBLE_LIGHT_MAX:-200}
ansible_light_reps=${BENCH_ANSIBLE_LIGHT_REPS:-1}
fleetharden_forks=${BENCH_FLEETHARDEN_FORKS:-}
# Not under /tmp: each light host mounts a tmpfs of its own over /tmp, which would hide
# its sshd configuration and keys.
work_dir=${BENCH_WORK:-/var/tmp/fleetharden-bench}
out_dir=${BENCH_OUT:-$work_dir/results-$(date -u +%Y%m%dT%H%M%SZ)}
full_lab_name=${LAB_NAME:-fleetharden-bench}
full_state=${LAB_STATE:-$work_dir/full-lab}
full_port_base=${LAB_PORT_BASE:-23001}
light_dir=${LIGHT_STATE:-$work_dir/light}
light_port_base=${LIGHT_PORT_BASE:-28001}

log() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

usage() {
	cat <<EOF
Usage: bench/run.sh [--quick]

Runs fleetharden, Ansible and the floor client on full lab hosts (sizes: $full_sizes)
and light hosts (sizes: $light_sizes), $reps times each, and writes results.tsv and
summary.md to a new directory under $work_dir. Needs root on Debian 12.

  --quick   10 full hosts and 200 light hosts, 3 repetitions: a sanity run

Environment:
  BENCH_REPS                 steady-state repetitions per tool and size (default 5)
  BENCH_FIRST_REPS           first runs from a reset state, on the smallest full size (3)
  BENCH_APT_REPS             apt-get update runs per tool, on the smallest full size (3)
  BENCH_FULL_SIZES           full host counts (default "10 50"; "" for none)
  BENCH_LIGHT_SIZES          light host counts (default "200 500 1000"; "" for none)
  BENCH_ANSIBLE_LIGHT_MAX    largest light fleet Ansible runs on (default 200)
  BENCH_ANSIBLE_LIGHT_REPS   Ansible runs per light size (default 1)
  BENCH_FLEETHARDEN_FORKS    fleetharden's --forks (default: its own default, 100);
                             Ansible always gets one fork per host
  BENCH_REV                  build fleetharden from this commit (default: the work tree)
  BENCH_WORK                 work directory, not under /tmp (default /var/tmp/fleetharden-bench)
  BENCH_OUT                  result directory (default BENCH_WORK/results-DATE)
  LAB_NAME, LAB_STATE, LAB_PORT_BASE
                             the full lab (default fleetharden-bench, BENCH_WORK/full-lab,
                             23001), kept apart from the test lab
  LIGHT_STATE, LIGHT_PORT_BASE
                             the light hosts (default BENCH_WORK/light, 28001)
EOF
}

# shellcheck source=bench/lib/measure.sh
source "$bench_dir/lib/measure.sh"
# shellcheck source=bench/lib/full.sh
source "$bench_dir/lib/full.sh"
# shellcheck source=bench/lib/light.sh
source "$bench_dir/lib/light.sh"
# shellcheck source=bench/lib/tools.sh
source "$bench_dir/lib/tools.sh"

parse_args() {
	while (($# > 0)); do
		case $1 in
		--quick)
			reps=3 first_reps=3 apt_reps=3 full_sizes=10 light_sizes=200
			;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			die "unknown argument: $1"
			;;
		esac
		shift
	done
}

# install_deps installs what the benchmark runs besides the lab: Ansible, GNU time and
# OpenSSH's server for the light hosts. policy-rc.d keeps the package from starting an
# sshd of its own on port 22.
install_deps() {
	local missing=() package added_policy=false

	for package in ansible-core time openssh-server; do
		dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
	done
	"$repo_dir/test/lab/lab.sh" deps
	((${#missing[@]} > 0)) || return 0

	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		added_policy=true
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
	if $added_policy; then
		rm -f /usr/sbin/policy-rc.d
	fi
}

ensure_go() {
	if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
		PATH=/usr/local/go/bin:$PATH
	fi
	command -v go >/dev/null || die "go not found in PATH or /usr/local/go/bin"
}

# build builds fleetharden from the work tree, or from the commit BENCH_REV names, and the
# floor client and the summary tool from the work tree.
build() {
	local source=$repo_dir

	ensure_go
	mkdir -p "$out_dir/bin"
	if [[ -n ${BENCH_REV:-} ]]; then
		source=$out_dir/src
		mkdir -p "$source"
		git -C "$repo_dir" archive "$BENCH_REV" | tar -x -C "$source"
	fi
	(cd "$source" && go build -o "$out_dir/bin/fleetharden" ./cmd/fleetharden)
	(cd "$repo_dir" && go build -o "$out_dir/bin/floor" ./bench/floor &&
		go build -o "$out_dir/bin/summary" ./bench/summary)
}

# raise_open_files lifts the open file limit to the hard limit, because the controller
# opens one socket per host, and Ansible several pipes and an SSH master per fork.
raise_open_files() {
	local largest=0 size

	ulimit -n "$(ulimit -Hn)"
	for size in $light_sizes $full_sizes; do
		((size > largest)) && largest=$size
	done
	if (($(ulimit -n) < 8 * largest + 256)); then
		log "warning: open file limit $(ulimit -n) may be too low for $largest hosts"
	fi
}

record_machine() {
	local source

	source="the work tree at $(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || echo -)"
	if [[ -n ${BENCH_REV:-} ]]; then
		source="commit $(git -C "$repo_dir" rev-parse --short "$BENCH_REV")"
	fi
	{
		printf 'date: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		printf 'fleetharden: %s\n' "$("$out_dir/bin/fleetharden" version 2>&1 | head -1)"
		printf 'built from: %s\n' "$source"
		printf 'cpus: %s\n' "$(nproc)"
		printf 'cpu: %s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
		printf 'memory: %s MiB\n' "$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
		printf 'kernel: %s\n' "$(uname -r)"
		printf 'go: %s\n' "$(go version)"
		printf 'ansible: %s\n' "$(ansible-playbook --version | awk 'NR == 1')"
		printf 'openssh: %s\n' "$(/usr/sbin/sshd -V 2>&1 | awk 'NR == 1')"
		printf 'settings: reps=%s first_reps=%s apt_reps=%s full_sizes="%s" light_sizes="%s"' \
			"$reps" "$first_reps" "$apt_reps" "$full_sizes" "$light_sizes"
		printf ' fleetharden_forks=%s\n' "${fleetharden_forks:-default}"
	} >"$out_dir/machine.txt"
}

cleanup() {
	local tool

	stop_ssh_masters
	light_down "$light_dir"
	for tool in floor fleetharden ansible; do
		rmdir "$(cgroup_dir "$tool")" 2>/dev/null || true
	done
	if [[ ${BENCH_KEEP_LAB:-} != 1 ]]; then
		full_down || log "warning: removing the full lab failed; run: LAB_NAME=$full_lab_name" \
			"LAB_STATE=$full_state test/lab/lab.sh down"
	fi
}

# write_summary writes summary.md: the medians and ratios, then where fleetharden's time
# goes on each host of each full fleet in steady state.
write_summary() {
	local size files

	"$out_dir/bin/summary" table "$results" >"$out_dir/summary.md"
	for size in $full_sizes; do
		files=("$raw_dir/full$size-steady-fleetharden-"*.json)
		[[ -f ${files[0]} ]] || continue
		printf '\nfleetharden per task on full%s, steady state:\n\n' "$size"
		"$out_dir/bin/summary" tasks "${files[@]}"
	done >>"$out_dir/summary.md"
}

main() {
	parse_args "$@"
	((EUID == 0)) || die "run as root: the hosts need Docker, unshare and a user account"

	case $(realpath -m "$light_dir")/ in
	/tmp/*) die "LIGHT_STATE $light_dir is under /tmp, which light hosts replace; move it" ;;
	esac
	raw_dir=$out_dir/raw
	results=$out_dir/results.tsv
	mkdir -p "$raw_dir" "$work_dir" "$light_dir"
	install_deps
	build
	raise_open_files
	record_machine
	printf '%s\n' "$results_header" >"$results"
	trap cleanup EXIT

	local size
	for size in $full_sizes; do
		bench_full "$size"
	done
	for size in $light_sizes; do
		bench_light "$size"
	done

	write_summary
	cat "$out_dir/machine.txt" "$out_dir/summary.md"
	log "results in $out_dir"
}

main "$@"
