package tasks

import (
	"fmt"
	"strings"
	"time"
)

// serviceScriptBody starts, restarts or reloads a service and waits until it is healthy,
// all in one remote command. It expects the variables that serviceScript sets.
//
// Each step is bounded by the time left before the deadline: coreutils' timeout kills
// the whole process group of a hung systemctl or health command.
// NOTE: on a host without timeout(1) the steps run unbounded, and only the caller's
// context ends a hung command. Elapsed time comes
// from /proc/uptime, in hundredths of a second, because POSIX date has no sub-second
// format.
//
// The script prints the fields init, action_status, health_status, result (healthy,
// timeout or action-failed) and elapsed_cs. When the service is not healthy, it adds the
// sections action, health and log. The action "probe" only prints active=yes or
// active=no.
const serviceScriptBody = `
uptime_cs() {
	read -r up _ </proc/uptime
	echo $(( ${up%.*} * 100 + 1${up#*.} - 100 ))
}

remaining_s() {
	left=$(( (deadline - $(uptime_cs) + 99) / 100 ))
	[ "$left" -gt 0 ] || left=1
	echo "$left"
}

bounded() {
	if command -v timeout >/dev/null 2>&1; then
		timeout "$(remaining_s)" "$@"
	else
		"$@"
	fi
}

control() {
	if [ "$init" = systemd ]; then
		if [ "$1" = status ]; then
			systemctl is-active -q "$unit"
			return
		fi
		# Earlier restarts, such as those of runs a minute apart, can use up the unit's
		# start rate limit (StartLimitBurst), and systemd then refuses this deliberate
		# start or restart. reset-failed clears that count.
		[ "$1" = reload ] || systemctl reset-failed "$unit" 2>/dev/null
		bounded systemctl "$1" "$unit"
	elif [ -x "$init_dir/$unit" ]; then
		bounded "$init_dir/$unit" "$1"
	else
		bounded service "$unit" "$1"
	fi
}

check_health() {
	if ! control status >/dev/null 2>&1; then
		health_out="$unit is not active"
		return 1
	fi
	[ -z "$health_cmd" ] && return 0
	health_out=$(bounded sh -c "$health_cmd" 2>&1 </dev/null)
	health_status=$?
	return "$health_status"
}

start=$(uptime_cs)
deadline=$(( start + timeout_cs ))
if [ -d "$systemd_dir" ]; then init=systemd; else init=sysv; fi
echo "init=$init"

if [ "$action" = probe ]; then
	if control status >/dev/null 2>&1; then echo active=yes; else echo active=no; fi
	exit 0
fi

action_out=$(control "$action" 2>&1 </dev/null)
action_status=$?
echo "action_status=$action_status"

result=action-failed
health_out=
health_status=
if [ "$action_status" -eq 0 ]; then
	while :; do
		if check_health; then result=healthy; break; fi
		if [ "$(uptime_cs)" -ge "$deadline" ]; then result=timeout; break; fi
		sleep 0.5
	done
fi
echo "result=$result"
echo "health_status=$health_status"
echo "elapsed_cs=$(( $(uptime_cs) - start ))"
[ "$result" = healthy ] && exit 0

echo "--- fleetharden action"
printf '%s\n' "$action_out"
echo "--- fleetharden health"
printf '%s\n' "$health_out"
echo "--- fleetharden log"
if [ "$init" = systemd ]; then
	journalctl -u "$unit" -n "$log_lines" --no-pager -o cat 2>&1
else
	tail -n "$log_lines" "$log_dir/$unit.log" 2>&1
fi
`

// serviceLogLines is how many of the service's recent log lines a failure shows.
const serviceLogLines = 20

// serviceScriptConfig holds the values serviceScript puts at the top of the script.
// The directories are fields so tests can point them at a temporary tree.
type serviceScriptConfig struct {
	unit       string        // validated unit name
	action     string        // start, restart, reload or probe
	timeout    time.Duration // how long the service has to become healthy
	healthCmd  string        // shell command that exits 0 when healthy; may be empty
	systemdDir string        // directory that exists only when systemd is the init system
	initDir    string        // directory of System V init scripts
	logDir     string        // log directory, holding NAME.log for services without systemd
}

// hostServiceScript returns the configuration for a real host.
func hostServiceScript(unit, action string, timeout time.Duration,
	healthCmd string) serviceScriptConfig {
	return serviceScriptConfig{
		unit:       unit,
		action:     action,
		timeout:    timeout,
		healthCmd:  healthCmd,
		systemdDir: "/run/systemd/system",
		initDir:    "/etc/init.d",
		logDir:     "/var/log",
	}
}

// serviceScript returns the remote command for cfg. Every value is quoted, so it
// reaches the script as one word whatever it contains.
func serviceScript(cfg serviceScriptConfig) string {
	var b strings.Builder
	// The first line still works when the transport prefixes the command with "LC_ALL=C ".
	b.WriteString("export LC_ALL=C\nset -f\n")
	fmt.Fprintf(&b, "unit=%s\n", Quote(cfg.unit))
	fmt.Fprintf(&b, "action=%s\n", Quote(cfg.action))
	fmt.Fprintf(&b, "timeout_cs=%d\n", durationCentiseconds(cfg.timeout))
	fmt.Fprintf(&b, "health_cmd=%s\n", Quote(cfg.healthCmd))
	fmt.Fprintf(&b, "systemd_dir=%s\n", Quote(cfg.systemdDir))
	fmt.Fprintf(&b, "init_dir=%s\n", Quote(cfg.initDir))
	fmt.Fprintf(&b, "log_dir=%s\n", Quote(cfg.logDir))
	fmt.Fprintf(&b, "log_lines=%d\n", serviceLogLines)
	b.WriteString(serviceScriptBody)
	return b.String()
}

// durationCentiseconds rounds d up to hundredths of a second.
func durationCentiseconds(d time.Duration) int64 {
	const centisecond = 10 * time.Millisecond
	return int64((d + centisecond - 1) / centisecond)
}
