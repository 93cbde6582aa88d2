#!/usr/bin/env bash
# hostcpu.sh measures the CPU time that the hosts of a running lab spend per host on
# each part of a fleetharden run, read from the lab containers' cgroups. On full hosts
# the hosts' CPU, not the controller's, bounds the wall time of a run, so this is the
# profile of what a run costs beyond what the floor client costs.
#
# Usage: bench/hostcpu.sh [REPS]   (as root, with a lab started by test/lab/lab.sh up)
#
# It reads the lab of LAB_NAME and LAB_STATE as lab.sh does, hardens it once, and then
# runs each step REPS times (default 5), printing the median CPU milliseconds per host.
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir=$(realpath -m "${LAB_STATE:-$repo_dir/test/lab/.state}")
name_prefix=${LAB_NAME:-fleetharden-lab}-
reps=${1:-5}

die() {
	printf 'hostcpu: error: %s\n' "$*" >&2
	exit 1
}

[[ -f $state_dir/inventory.yaml ]] || die "no lab inventory in $state_dir; run test/lab/lab.sh up"
mapfile -t ids < <(docker ps -q --no-trunc --filter "name=^$name_prefix")
((${#ids[@]} > 0)) || die "no running containers named $name_prefix*"
hosts=${#ids[@]}

# shellcheck source=bench/lib/labcpu.sh
source "$repo_dir/bench/lib/labcpu.sh"

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$repo_dir" && go build -o "$bin/fleetharden" ./cmd/fleetharden &&
	go build -o "$bin/floor" ./bench/floor)
awk '$1 == "port:" { print "127.0.0.1", $2 }' "$state_dir/inventory.yaml" >"$bin/targets"
printf 'name: one command\ntasks:\n  - name: run true\n    command: {cmd: "true", check_mode: true}\n' \
	>"$bin/true.yaml"

fleetharden() {
	"$bin/fleetharden" run -i "$state_dir/inventory.yaml" --known-hosts "$state_dir/known_hosts" \
		--become-pass-file "$state_dir/become-pass" --no-color "$@" >/dev/null 2>&1
}

floor() {
	"$bin/floor" -targets "$bin/targets" -user fleet -key "$state_dir/id_ed25519" \
		-known-hosts "$state_dir/known_hosts" -command "$1" >/dev/null
}

# measure prints the median CPU milliseconds per host of REPS runs of its command.
measure() {
	local label=$1 before after rep
	local samples=()
	shift

	"$@" || die "$label failed"
	for ((rep = 0; rep < reps; rep++)); do
		before=$(lab_cpu_ns)
		"$@" || die "$label failed"
		after=$(lab_cpu_ns)
		samples+=($(((after - before) / 1000000 / hosts)))
	done
	printf '| %s | %s |\n' "$label" \
		"$(printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

fleetharden "$repo_dir/bench/full-playbook.yaml" || true
printf 'Host CPU ms per host, median of %s runs on %s hosts (%s)\n\n' "$reps" "$hosts" "$(date -u +%FT%TZ)"
printf '| step | CPU ms per host |\n|---|---|\n'
measure 'floor: connect and run true' floor true
measure 'floor: connect and run sudo sh -c true' floor 'sudo -n sh -c true'
measure 'fleetharden, one command in check mode: connect, sudo check, command' \
	fleetharden --check "$bin/true.yaml"
measure 'fleetharden, one command: the above and the host lock' fleetharden "$bin/true.yaml"
measure 'fleetharden, bench/full-playbook.yaml in steady state' \
	fleetharden "$repo_dir/bench/full-playbook.yaml"
