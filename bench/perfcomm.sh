#!/usr/bin/env bash
# perfcomm.sh compares two fleetharden builds by the CPU that every process on the
# machine spends during their steady runs on a running lab, grouped by process name. It
# samples all CPUs with perf while REPS runs of one build go by, then the same for the
# other, and prints milliseconds per host for each name that differs by more than 0.1 ms.
# Unlike abcpu.sh, which reads the lab containers' cgroups, it also counts what the runs
# cost outside them: the controller, Docker's port proxy and the kernel's workers. It
# counts whatever else runs on the machine as well, so keep the machine otherwise idle.
#
# Usage: bench/perfcomm.sh OLD_BINARY NEW_BINARY [PLAYBOOK]   (as root, with perf from
#        Debian's linux-perf package and a lab started by test/lab/lab.sh up; REPS sets
#        the runs per build, default 10; PLAYBOOK defaults to bench/full-playbook.yaml)
set -euo pipefail

repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir=$(realpath -m "${LAB_STATE:-$repo_dir/test/lab/.state}")
reps=${REPS:-10}

die() {
	printf 'perfcomm: error: %s\n' "$*" >&2
	exit 1
}

(($# == 2 || $# == 3)) || die "usage: bench/perfcomm.sh OLD_BINARY NEW_BINARY [PLAYBOOK]"
command -v perf >/dev/null || die "perf is not installed; run apt-get install -y linux-perf"
[[ -f $state_dir/inventory.yaml ]] || die "no lab inventory in $state_dir; run test/lab/lab.sh up"
playbook=$(realpath "${3:-$repo_dir/bench/full-playbook.yaml}")
hosts=$(grep -c '^ *port:' "$state_dir/inventory.yaml")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# profile runs REPS steady runs of the binary $1 under perf and writes, to $2, the number
# of 0.1 ms CPU samples of each process name, idle excluded.
profile() {
	local run
	run="$1 run -i $state_dir/inventory.yaml --known-hosts $state_dir/known_hosts"
	run+=" --become-pass-file $state_dir/become-pass --no-color $playbook"
	$run >/dev/null 2>&1 || die "a warm-up run of $1 failed"
	perf record -q -e cpu-clock -c 100000 -a -o "$work/perf.data" -- \
		sh -c "for i in \$(seq $reps); do $run >/dev/null 2>&1 || exit 1; done" >/dev/null 2>&1 ||
		die "a run of $1 failed"
	perf report -i "$work/perf.data" --sort comm --stdio -F sample,comm 2>/dev/null |
		awk '!/^#/ && NF >= 2 && $2 != "swapper" { n[$2] += $1 } END { for (c in n) print c, n[c] }' |
		sort >"$2"
}

profile "$1" "$work/old"
profile "$2" "$work/new"

printf 'CPU ms per host and run, %s runs each on %s hosts (%s)\n\n' "$reps" "$hosts" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '| process | %s | %s | difference |\n|---|---|---|---|\n' "$(basename "$1")" \
	"$(basename "$2")"
join -a1 -a2 -e0 -o 0,1.2,2.2 "$work/old" "$work/new" |
	awk -v per=$((reps * hosts * 10)) '
	{ old += $2; new += $3 }
	($3 - $2) * ($3 - $2) > per * per / 100 {
		printf "| %s | %.2f | %.2f | %+.2f |\n", $1, $2 / per, $3 / per, ($3 - $2) / per
	}
	END { printf "| all | %.2f | %.2f | %+.2f |\n", old / per, new / per, (new - old) / per }'
