#!/usr/bin/env bash
# abcpu.sh compares fleetharden builds on a running lab: it alternates steady runs of
# each build with its playbook and prints, per build, the median host CPU per host and
# the median wall time. Alternating spreads the machine's other load over every build,
# so a change shows even where single runs differ by more than it saves.
#
# Usage: bench/abcpu.sh BINARY:PLAYBOOK...   (as root, with a lab started by
#        test/lab/lab.sh up; REPS sets the rounds, default 11)
#
# Example, the work tree against the commit before it:
#   git worktree add /tmp/base HEAD~1 && (cd /tmp/base && go build -o /tmp/fh-base ./cmd/fleetharden)
#   go build -o /tmp/fh-new ./cmd/fleetharden
#   bench/abcpu.sh /tmp/fh-base:bench/full-playbook.yaml /tmp/fh-new:bench/full-playbook.yaml
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir=$(realpath -m "${LAB_STATE:-$repo_dir/test/lab/.state}")
name_prefix=${LAB_NAME:-fleetharden-lab}-
reps=${REPS:-11}

die() {
	printf 'abcpu: error: %s\n' "$*" >&2
	exit 1
}

(($# > 0)) || die "usage: bench/abcpu.sh BINARY:PLAYBOOK..."
[[ -f $state_dir/inventory.yaml ]] || die "no lab inventory in $state_dir; run test/lab/lab.sh up"
mapfile -t ids < <(docker ps -q --no-trunc --filter "name=^$name_prefix")
((${#ids[@]} > 0)) || die "no running containers named $name_prefix*"
hosts=${#ids[@]}

# shellcheck source=bench/lib/labcpu.sh
source "$repo_dir/bench/lib/labcpu.sh"

# run_one runs one BINARY:PLAYBOOK pair against the lab.
run_one() {
	"${1%%:*}" run -i "$state_dir/inventory.yaml" --known-hosts "$state_dir/known_hosts" \
		--become-pass-file "$state_dir/become-pass" --no-color "${1#*:}" >/dev/null 2>&1
}

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

declare -A cpu wall
for build in "$@"; do
	[[ $build == *:* ]] || die "invalid argument $build: use BINARY:PLAYBOOK"
	# The first run of each build hardens the hosts and is not counted.
	run_one "$build" || die "$build failed"
done
for ((rep = 0; rep < reps; rep++)); do
	for build in "$@"; do
		before=$(lab_cpu_ns)
		start=$(date +%s%N)
		run_one "$build" || die "$build failed"
		end=$(date +%s%N)
		after=$(lab_cpu_ns)
		cpu[$build]+="$(((after - before) / 1000 / hosts)) "
		wall[$build]+="$(((end - start) / 1000000)) "
	done
done

printf 'Median of %s alternating runs on %s hosts (%s)\n\n' "$reps" "$hosts" "$(date -u +%FT%TZ)"
printf '| build | host CPU us per host | wall ms |\n|---|---|---|\n'
for build in "$@"; do
	# shellcheck disable=SC2086 # the samples are a list of numbers
	printf '| %s | %s | %s |\n' "$build" "$(median ${cpu[$build]})" "$(median ${wall[$build]})"
done
