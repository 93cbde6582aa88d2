package tasks

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// Quote returns s quoted for a POSIX shell, so it reaches the command as one word whatever
// it contains.
func Quote(s string) string {
	if s != "" && safeWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var safeWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// nameRE is the portable user and group name syntax that useradd and groupadd accept by
// default on Debian and Red Hat systems.
var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$`)

// CheckName returns an error unless s is a valid user or group name of at most 32 bytes.
// Checking names before they reach a command line keeps shell metacharacters, spaces and
// newlines out of every command a task runs.
func CheckName(what, s string) error {
	if len(s) == 0 || len(s) > 32 || !nameRE.MatchString(s) {
		return fmt.Errorf("invalid %s name %q: use lowercase letters, digits, '_' or '-', "+
			"starting with a letter or '_', at most 32 characters", what, s)
	}
	return nil
}

// CheckPath returns an error unless p is an absolute path in clean form, without . or ..
// elements, and without control characters. param names the task argument in the
// message. The check keeps NUL bytes, which no remote call can carry, and newlines, which
// would put a newline into a file name, away from every host.
func CheckPath(param, p string) error {
	switch {
	case strings.IndexFunc(p, unicode.IsControl) >= 0:
		return fmt.Errorf("invalid %s %q: it contains a control character such as a "+
			"newline or NUL: use a path without them", param, p)
	case !path.IsAbs(p):
		return fmt.Errorf("invalid %s %q: use an absolute path, starting with /", param, p)
	case path.Clean(p) != p:
		return fmt.Errorf("invalid %s %q: use a path without . or .. elements, repeated "+
			"slashes or a trailing slash, such as %s", param, p, path.Clean(p))
	}
	return nil
}
