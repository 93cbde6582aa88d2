# shellcheck shell=bash disable=SC2154 # run.sh sets the variables used here
# measure.sh times one run of a tool and appends a row to results.tsv. run.sh sources it.
#
# Each tool runs in a cgroup of its own, so its CPU time counts every process it started,
# including the SSH master connections that Ansible's ControlPersist leaves running
# between runs. Memory is read twice. /usr/bin/time -v gives the maximum RSS of the
# largest process of the tree. A sampler sums the PSS of all of them every 0.2 s and keeps
# the peak, which is the memory a controller with many processes (Ansible's forks) uses.

# shellcheck disable=SC2034 # run.sh writes it as the first line of results.tsv
readonly results_header='size	hosts	phase	tool	rep	wall_s	cpu_s	max_rss_mib	peak_pss_mib	load1	hosts_done	changed	result'

# cgroup_dir prints the CPU accounting cgroup of a tool, creating it, or nothing when this
# machine offers neither cgroup v1's cpuacct nor cgroup v2.
cgroup_dir() {
	local tool=$1
	local dir

	if [[ -d /sys/fs/cgroup/cpuacct ]]; then
		dir=/sys/fs/cgroup/cpuacct/fleetharden-bench-$tool
	elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
		dir=/sys/fs/cgroup/fleetharden-bench-$tool
	else
		return 0
	fi
	mkdir -p "$dir" 2>/dev/null && printf '%s\n' "$dir"
}

# cgroup_cpu_ns prints the CPU time the cgroup's processes used so far, in nanoseconds.
cgroup_cpu_ns() {
	local dir=$1

	if [[ -f $dir/cpuacct.usage ]]; then
		cat "$dir/cpuacct.usage"
	else
		awk '$1 == "usage_usec" { print $2 * 1000 }' "$dir/cpu.stat"
	fi
}

# sample_pss writes the peak summed PSS of the cgroup's processes, in KiB, to a file until
# it is killed.
sample_pss() {
	local dir=$1 file=$2
	local peak=0 pss pid files

	while :; do
		files=()
		while read -r pid; do
			files+=("/proc/$pid/smaps_rollup")
		done <"$dir/cgroup.procs"
		if ((${#files[@]} > 0)); then
			# cat fails on a process that ended since the listing, but the sum of the
			# others is still right.
			pss=$(cat "${files[@]}" 2>/dev/null |
				awk '$1 == "Pss:" { s += $2 } END { print s + 0 }' || true)
			if ((pss > peak)); then
				peak=$pss
				printf '%s\n' "$peak" >"$file"
			fi
		fi
		sleep 0.2
	done
}

# time_field prints one number from a /usr/bin/time -v report: wall seconds, user
# seconds, system seconds or maximum RSS in KiB.
time_field() {
	local file=$1 field=$2

	awk -v field="$field" -F': ' '
		field == "wall" && /Elapsed \(wall clock\)/ {
			n = split($2, p, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + p[i]
			print s
		}
		field == "user" && /User time \(seconds\)/ { print $2 }
		field == "sys" && /System time \(seconds\)/ { print $2 }
		field == "rss" && /Maximum resident set size/ { print $2 }
	' "$file"
}

# run_in_cgroup runs a command with a time limit under /usr/bin/time -v, inside the
# cgroup when there is one, and returns its exit status.
run_in_cgroup() {
	local dir=$1 limit=$2 prefix=$3
	shift 3

	(
		if [[ -n $dir ]]; then
			printf '%s\n' "$BASHPID" >"$dir/cgroup.procs"
		fi
		exec /usr/bin/time -v -o "$prefix.time" timeout -k 10 "$limit" "$@"
	) >"$prefix.out" 2>"$prefix.err"
}

# measure runs a command as one measured run and appends its row to results.tsv.
# Arguments: size label, host count, phase, tool, repetition, time limit in seconds, then
# the command. The tool's check_TOOL function reads the output and prints "DONE CHANGED"
# or an error; the row's result is "ok" when it printed the expected numbers.
measure() {
	local size=$1 hosts=$2 phase=$3 tool=$4 rep=$5 limit=$6
	shift 6
	local prefix=$raw_dir/$size-$phase-$tool-$rep
	local dir load before after status=0 sampler cpu wall rss pss checked result

	dir=$(cgroup_dir "$tool")
	load=$(cut -d' ' -f1 /proc/loadavg)
	if [[ -n $dir ]]; then
		before=$(cgroup_cpu_ns "$dir")
		: >"$prefix.pss"
		sample_pss "$dir" "$prefix.pss" &
		sampler=$!
	fi

	run_in_cgroup "$dir" "$limit" "$prefix" "$@" || status=$?

	if [[ -n $dir ]]; then
		after=$(cgroup_cpu_ns "$dir")
		kill "$sampler" 2>/dev/null || true
		wait "$sampler" 2>/dev/null || true
		cpu=$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", (a - b) / 1e9 }')
		pss=$(awk '{ printf "%.1f", $1 / 1024 }' "$prefix.pss")
	else
		cpu=$(awk -v u="$(time_field "$prefix.time" user)" \
			-v s="$(time_field "$prefix.time" sys)" 'BEGIN { printf "%.2f", u + s }')
		pss=-
	fi
	wall=$(time_field "$prefix.time" wall)
	rss=$(awk -v k="$(time_field "$prefix.time" rss)" 'BEGIN { printf "%.1f", k / 1024 }')

	checked=$("check_$tool" "$prefix.out" "$hosts" "$status")
	result=$(expect_result "$phase" "$hosts" "$checked")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$hosts" "$phase" \
		"$tool" "$rep" "$wall" "$cpu" "$rss" "${pss:--}" "$load" "${checked% *}" \
		"${checked#* }" "$result" >>"$results"
	log "$size $phase $tool #$rep: ${wall}s wall, ${cpu}s CPU, ${rss} MiB max RSS: $result"
}

# expect_result prints "ok" when every host was done and the phase changed what it
# should: nothing in steady state, every host in a first run, anything in other phases.
# Anything else is the reason.
expect_result() {
	local phase=$1 hosts=$2 checked=$3
	local finished changed

	read -r finished changed <<<"$checked"
	if ! [[ $finished =~ ^[0-9]+$ && $changed =~ ^[0-9-]+$ ]]; then
		printf '%s\n' "$checked"
	elif ((finished != hosts)); then
		printf 'lost %d of %d hosts\n' "$((hosts - finished))" "$hosts"
	elif [[ $phase == steady && $changed != 0 && $changed != - ]]; then
		printf '%d hosts changed in steady state\n' "$changed"
	elif [[ $phase == first && $changed != "$hosts" ]]; then
		printf 'only %d of %d hosts changed in a first run\n' "$changed" "$hosts"
	else
		printf 'ok\n'
	fi
}

# check_fleetharden reads the recap's summary line, such as "hosts=10 ok=10 changed=0
# failed=0 rolled_back=0 rollback_failed=0 unreachable=0 skipped=0", and prints the
# hosts that ended ok or changed, and those that changed.
check_fleetharden() {
	local out=$1 status=$3
	local line

	line=$(grep -E '^hosts=[0-9]+ ok=' "$out" | tail -1 || true)
	if [[ -z $line ]]; then
		printf 'no recap (exit status %s)\n' "$status"
		return
	fi
	awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["ok"] + v["changed"], v["changed"]
	}' <<<"$line"
}

# check_ansible reads the PLAY RECAP and prints the hosts with no failure and not
# unreachable, and those with a change.
check_ansible() {
	local out=$1 status=$3

	if ! grep -q '^PLAY RECAP' "$out"; then
		printf 'no recap (exit status %s)\n' "$status"
		return
	fi
	awk '/^PLAY RECAP/ { recap = 1; next }
		recap && / : ok=/ {
			for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			if (v["unreachable"] == 0 && v["failed"] == 0) done++
			if (v["changed"] > 0) changed++
		}
		END { print done + 0, changed + 0 }' "$out"
}

# check_floor reads the floor client's "hosts=N ok=N failed=N seconds=S" line. The floor
# changes nothing, so it reports "-" for changed hosts.
check_floor() {
	local out=$1 status=$3
	local line

	line=$(grep -E '^hosts=[0-9]+ ok=' "$out" || true)
	if [[ -z $line ]]; then
		printf 'no summary (exit status %s)\n' "$status"
		return
	fi
	awk '{ split($2, kv, "="); print kv[2], "-" }' <<<"$line"
}
