package tasks

import (
	"fmt"
	"strings"
	"time"
)

// aptScriptBody updates the package lists and upgrades installed packages in one remote
// command. It expects the variables that aptScript sets.
//
// apt-get runs without prompts and keeps changed configuration files. While another
// process holds a package lock, apt-get is retried every 2 seconds until lock_deadline.
// apt-get update may exit 0 although a source failed, so its output is also searched
// for fetch errors.
//
// The script prints the fields cache_age_s, update (fresh, skipped, done, failed or
// lock-timeout), upgrade (none, done, simulated, failed or lock-timeout) and
// apt_status, then the sections before and after (dpkg-query lines "status package
// version" of the requested packages) and output (apt-get's last output).
const aptScriptBody = `
export DEBIAN_FRONTEND=noninteractive APT_LISTCHANGES_FRONTEND=none
fetch_error_re='^(W|E): Failed to fetch|^Err:|Some index files failed to download'
lock_held_re='Could not get lock|is another process using it'
lock_deadline=$(( $(date +%s) + lock_timeout_s ))
apt_out=
apt_status=

run_apt() {
	while :; do
		apt_out=$(apt-get "$@" 2>&1 </dev/null)
		apt_status=$?
		[ "$apt_status" -eq 0 ] && return 0
		printf '%s\n' "$apt_out" | grep -Eq "$lock_held_re" || return 1
		[ "$(date +%s)" -lt "$lock_deadline" ] || return 2
		sleep 2
	done
}

cache_age_s() {
	newest=0
	for f in "$stamp_file" "$lists_partial" "$pkgcache"; do
		[ "$f" = "$pkgcache" ] && [ "$newest" -gt 0 ] && break
		mtime=$(stat -c %Y "$f" 2>/dev/null) || continue
		[ "$mtime" -gt "$newest" ] && newest=$mtime
	done
	if [ "$newest" -eq 0 ]; then echo -1; else echo $(( $(date +%s) - newest )); fi
}

query_packages() {
	dpkg-query -W -f='${db:Status-Abbrev} ${binary:Package} ${Version}\n' $packages 2>/dev/null
	return 0
}

installed_names() {
	printf '%s\n' "$1" | while read -r status name version; do
		case $status in ?i*) printf '%s\n' "${name%%:*}" ;; esac
	done
}

finish() {
	echo "apt_status=$apt_status"
	echo "--- fleetharden before"
	printf '%s\n' "$before"
	echo "--- fleetharden after"
	printf '%s\n' "$after"
	echo "--- fleetharden output"
	printf '%s\n' "$apt_out"
	exit 0
}

before=
after=
if [ "$update" = 1 ]; then
	age=$(cache_age_s)
	echo "cache_age_s=$age"
	if [ "$check" = 1 ]; then
		echo update=skipped
	elif [ "$age" -ge 0 ] && [ "$age" -lt "$cache_valid_s" ]; then
		echo update=fresh
	else
		run_apt update -q -o APT::Update::Error-Mode=any
		case $? in
		2) echo update=lock-timeout; finish ;;
		1) echo update=failed; finish ;;
		esac
		if printf '%s\n' "$apt_out" | grep -Eq "$fetch_error_re"; then
			echo update=failed
			finish
		fi
		echo update=done
	fi
fi

if [ -z "$packages" ]; then
	echo upgrade=none
	finish
fi
before=$(query_packages)
installed=$(installed_names "$before")
if [ -z "$installed" ]; then
	echo upgrade=none
	finish
fi

done_word=done
if [ "$check" = 1 ]; then
	done_word=simulated
	run_apt -s install --only-upgrade $installed
else
	run_apt -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		install --only-upgrade $installed
fi
case $? in
0) echo "upgrade=$done_word" ;;
2) echo upgrade=lock-timeout ;;
*) echo upgrade=failed ;;
esac
after=$(query_packages)
finish
`

// aptScriptConfig holds the values aptScript puts at the top of the script. The paths
// are fields so tests can point them at a temporary tree.
type aptScriptConfig struct {
	update         bool
	cacheValidTime time.Duration
	packages       []string // validated package names
	lockTimeout    time.Duration
	check          bool
	stampFile      string // touched by APT::Update::Post-Invoke-Success hooks
	listsPartial   string // apt-get update writes into it on every run
	pkgcache       string // rebuilt after the lists change; used when the others are absent
}

// hostAptScript returns the configuration for a real host.
func hostAptScript(update bool, cacheValidTime time.Duration, packages []string,
	lockTimeout time.Duration, check bool) aptScriptConfig {
	return aptScriptConfig{
		update:         update,
		cacheValidTime: cacheValidTime,
		packages:       packages,
		lockTimeout:    lockTimeout,
		check:          check,
		stampFile:      "/var/lib/apt/periodic/update-success-stamp",
		listsPartial:   "/var/lib/apt/lists/partial",
		pkgcache:       "/var/cache/apt/pkgcache.bin",
	}
}

// aptScript returns the remote command for cfg. Package names reach the script
// unquoted inside one quoted word and are split by the shell, which is safe only
// because aptPackageRE admits no blanks, quotes or glob characters.
func aptScript(cfg aptScriptConfig) string {
	var b strings.Builder
	// The first line still works when the transport prefixes the command with "LC_ALL=C ".
	b.WriteString("export LC_ALL=C\nset -f\n")
	fmt.Fprintf(&b, "update=%d\n", boolDigit(cfg.update))
	fmt.Fprintf(&b, "cache_valid_s=%d\n", ceilSeconds(cfg.cacheValidTime))
	fmt.Fprintf(&b, "packages=%s\n", Quote(strings.Join(cfg.packages, " ")))
	fmt.Fprintf(&b, "lock_timeout_s=%d\n", ceilSeconds(cfg.lockTimeout))
	fmt.Fprintf(&b, "check=%d\n", boolDigit(cfg.check))
	fmt.Fprintf(&b, "stamp_file=%s\n", Quote(cfg.stampFile))
	fmt.Fprintf(&b, "lists_partial=%s\n", Quote(cfg.listsPartial))
	fmt.Fprintf(&b, "pkgcache=%s\n", Quote(cfg.pkgcache))
	b.WriteString(aptScriptBody)
	return b.String()
}

// boolDigit returns 1 for true and 0 for false, as the scripts expect.
func boolDigit(v bool) int {
	if v {
		return 1
	}
	return 0
}

// ceilSeconds rounds d up to whole seconds.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
