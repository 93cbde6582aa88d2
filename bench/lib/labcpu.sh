# shellcheck shell=bash disable=SC2154 # the caller sets ids
# labcpu.sh defines lab_cpu_ns for the scripts that read the lab hosts' CPU accounting.
# The caller sets ids to the lab containers' full IDs and defines die.

# lab_cpu_ns prints the CPU time, in nanoseconds, that every lab container has used so
# far, from cgroup v1's cpuacct or cgroup v2's cpu.stat.
lab_cpu_ns() {
	local id total=0 v1 v2 usage

	for id in "${ids[@]}"; do
		v1=/sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage
		v2=/sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat
		if [[ -r $v1 ]]; then
			read -r usage <"$v1"
		elif [[ -r $v2 ]]; then
			usage=$(awk '$1 == "usage_usec" { print $2 * 1000 }' "$v2")
		else
			die "no CPU accounting found for container $id"
		fi
		total=$((total + usage))
	done
	printf '%s\n' "$total"
}
