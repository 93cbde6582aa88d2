# Shell functions that print the results of commands as the members of one JSON object,
# for the probe scripts of fleetharden audit. They need only POSIX sh, tr and awk, so a
# host needs neither jq nor python, and they write no file.

exec </dev/null

# json_string prints its standard input as one JSON string, without the trailing newline.
# Control characters other than tab and CR are dropped, so the output is always valid.
json_string() {
	tr -d '\000-\010\013\014\016-\037' | awk '
		BEGIN { ORS = ""; print "\"" }
		{
			# A backslash in a replacement means one thing to gawk and another to mawk, so
			# backslashes are doubled by splitting the line at them.
			n = split($0, parts, /\\/)
			line = parts[1]
			for (i = 2; i <= n; i++) line = line "\\\\" parts[i]
			gsub(/"/, "\\\"", line); gsub(/\t/, "\\t", line); gsub(/\r/, "\\r", line)
			if (NR > 1) print "\\n"
			print line
		}
		END { print "\"" }'
}

# probe NAME COMMAND... runs COMMAND once and prints "NAME":{"stdout":...,"stderr":...,
# "exit":N}. Its standard error is captured through fd 4, and its exit status follows the
# error text behind an "exit=" marker, so no temporary file is needed.
probe() {
	name=$1
	shift
	printf '"%s":{"stdout":' "$name"
	err=$({ { "$@"; echo "exit=$?" >&4; } 2>&4 | json_string >&3; } 4>&1)
	code=${err##*exit=}
	err=${err%exit=*}
	printf ',"stderr":'
	printf '%s' "$err" | json_string
	printf ',"exit":%d},' "$code"
} 3>&1

