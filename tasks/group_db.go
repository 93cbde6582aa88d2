package tasks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// The local account databases that group and group_members read.
const (
	groupFile  = "/etc/group"
	passwdFile = "/etc/passwd"
)

// groupEntry is one line of /etc/group or of `getent group` output.
type groupEntry struct {
	name    string
	gid     int
	members []string
}

// hasMember reports whether user is listed as a supplementary member of the group.
func (g groupEntry) hasMember(user string) bool {
	for _, m := range g.members {
		if m == user {
			return true
		}
	}
	return false
}

// parseGroupLine parses "name:password:gid:members". It returns false for blank lines,
// comments, NIS "+" and "-" lines and lines with a malformed gid.
func parseGroupLine(line string) (groupEntry, bool) {
	fields := strings.Split(strings.TrimSpace(line), ":")
	if len(fields) != 4 || fields[0] == "" || strings.ContainsAny(fields[0][:1], "#+-") {
		return groupEntry{}, false
	}

	gid, err := strconv.Atoi(fields[2])
	if err != nil {
		return groupEntry{}, false
	}

	entry := groupEntry{name: fields[0], gid: gid}
	for m := range strings.SplitSeq(fields[3], ",") {
		if m = strings.TrimSpace(m); m != "" {
			entry.members = append(entry.members, m)
		}
	}
	return entry, true
}

// findGroup returns the entry for name in the text of a group database.
func findGroup(text, name string) (groupEntry, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		if entry, ok := parseGroupLine(line); ok && entry.name == name {
			return entry, true
		}
	}
	return groupEntry{}, false
}

// passwdNames returns the user names defined in the text of a passwd database, skipping
// blank lines, comments and NIS "+" and "-" lines.
func passwdNames(text string) map[string]bool {
	names := map[string]bool{}
	for line := range strings.SplitSeq(text, "\n") {
		fields := strings.Split(strings.TrimSpace(line), ":")
		if len(fields) < 7 || fields[0] == "" || strings.ContainsAny(fields[0][:1], "#+-") {
			continue
		}
		names[fields[0]] = true
	}
	return names
}

// accountFileKind names the reads of local account databases in the memo.
const accountFileKind = "account file"

// accountFileKey names the read of the account database at path. Its stored value is the
// file's text, "" for a missing file.
func accountFileKey(path string) memoKey {
	return memoKey{kind: accountFileKind, object: path}
}

// readAccountFile returns the text of a local account database, once while env.Memo keeps
// it. A missing file reads as empty, so lookups fall back to getent.
func readAccountFile(ctx context.Context, env *Env, path string) (string, error) {
	return recall(env.Memo, accountFileKey(path), func() (string, error) {
		f, err := env.Host.ReadFile(ctx, path)
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return string(f.Data), nil
	})
}

// getent exit statuses from glibc's getent(1).
const (
	getentOK       = 0
	getentNotFound = 2
)

// lookupGroupNSS looks name up through the name service switch with `getent group`,
// which also covers groups from LDAP, SSSD and other sources.
func lookupGroupNSS(ctx context.Context, host Host, name string) (groupEntry, bool, error) {
	cmd := "getent group " + Quote(name)
	res, err := host.Run(ctx, cmd, nil)
	if err != nil {
		return groupEntry{}, false, &remoteError{op: "run " + cmd, err: err}
	}

	switch res.ExitCode {
	case getentOK:
		entry, ok := findGroup(string(res.Stdout), name)
		return entry, ok, nil
	case getentNotFound:
		return groupEntry{}, false, nil
	}
	return groupEntry{}, false, fmt.Errorf("run %s: exit status %d: %s",
		cmd, res.ExitCode, outputTail(res.Stderr, 3))
}

// lookupGroup finds name in /etc/group and falls back to getent only when the file does
// not define it, which costs one command.
func lookupGroup(ctx context.Context, env *Env, name string) (entry groupEntry, local, found bool,
	err error) {
	text, err := readAccountFile(ctx, env, groupFile)
	if err != nil {
		return groupEntry{}, false, false, err
	}
	if entry, ok := findGroup(text, name); ok {
		return entry, true, true, nil
	}

	entry, found, err = lookupGroupNSS(ctx, env.Host, name)
	return entry, false, found, err
}
