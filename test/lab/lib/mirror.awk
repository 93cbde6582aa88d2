# mirror.awk prints the URI of the first enabled "deb" APT source that serves
# the suite named by the variable "suite". It reads one-line sources.list files
# and deb822 .sources files, whose stanzas are separated by blank lines.

function flush_stanza() {
	if (!found && uri != "" && tolower(enabled) != "no" &&
	    (" " types " ") ~ / deb / && (" " suites " ") ~ (" " suite " ")) {
		print uri
		found = 1
	}
	types = suites = uri = enabled = ""
}

function field_value(    value) {
	value = substr($0, index($0, ":") + 1)
	gsub(/^[ \t]+|[ \t]+$/, "", value)
	return value
}

FNR == 1 { flush_stanza() }
/^[ \t]*$/ { flush_stanza(); next }
/^[ \t]*#/ { next }

$1 == "deb" {
	i = 2
	if ($i ~ /^\[/) {
		while (i <= NF && $i !~ /\]$/) i++
		i++
	}
	if (!found && $(i + 1) == suite) {
		print $i
		found = 1
	}
	next
}

tolower($1) == "types:" { types = field_value() }
tolower($1) == "suites:" { suites = field_value() }
tolower($1) == "enabled:" { enabled = field_value() }
tolower($1) == "uris:" { split(field_value(), uris, /[ \t]+/); uri = uris[1] }

END { flush_stanza() }
