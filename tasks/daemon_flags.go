package tasks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// daemonFlag is one option on dockerd's command line.
type daemonFlag struct {
	Name  string // without dashes: "H", "host", "log-level"
	Value string // "" for a boolean flag given without "=value"
	Text  string // as written, for messages: "-H fd://"
}

// daemonCommandLine is the command line dockerd starts with on a host: the flags of its
// unit's ExecStart, or of the running process when the unit is unknown.
type daemonCommandLine struct {
	Source string // "docker.service", "the running dockerd process", or "" when unknown
	Flags  []daemonFlag
}

// sectionMarker separates the parts of a command's output that holds several reads.
const sectionMarker = "--fleetharden-section--"

// daemonCommandLineOf returns dockerd's command line from the unit's properties or, for
// a unit without ExecStart, from procArgv, the argv of the running dockerd with one word
// a line. It reads each environment file that ExecStart refers to through a variable.
func daemonCommandLineOf(ctx context.Context, h Host, unit string, props unitProperties,
	procArgv string) (*daemonCommandLine, error) {
	if len(props.argv) > 0 {
		argv, err := expandUnitArgv(ctx, h, props)
		if err != nil {
			return nil, err
		}
		return &daemonCommandLine{Source: unitFileName(unit), Flags: parseDaemonFlags(argv)}, nil
	}
	if argv := strings.Fields(procArgv); len(argv) > 0 {
		flags := parseDaemonFlags(argv)
		return &daemonCommandLine{Source: "the running dockerd process", Flags: flags}, nil
	}
	return &daemonCommandLine{}, nil
}

// unitProperties holds the properties of a unit that decide dockerd's arguments.
type unitProperties struct {
	argv      []string // ExecStart as systemd stores it, before variable expansion
	envFiles  []envFile
	env       map[string]string // Environment=
	loadState string            // "loaded", or "not-found" for a unit systemd does not have
	// envCopies maps the path of each environment file that the state read looked at
	// to its finding. Files that it did not copy are read with Host.ReadFile.
	envCopies map[string]envCopy
}

// envCopy is the state read's finding about one environment file.
type envCopy struct {
	kind string // "regular" for a copied file, "missing", or "other" for a non-regular file
	text string // the text of a regular file
}

type envFile struct {
	path     string
	optional bool // "-path" in the unit: a missing file is not an error
}

// parseUnitProperties reads the output of systemctl show. ExecStart looks like
// "{ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS ; ... }".
func parseUnitProperties(out string) unitProperties {
	props := unitProperties{env: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, len(out)+1)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), "=")
		switch name {
		case "ExecStart":
			if _, rest, ok := strings.Cut(value, "argv[]="); ok && len(props.argv) == 0 {
				argv, _, _ := strings.Cut(rest, " ; ")
				props.argv = strings.Fields(argv)
			}
		case "EnvironmentFiles":
			file, flags, _ := strings.Cut(value, " ")
			if file != "" {
				props.envFiles = append(props.envFiles, envFile{
					path: file, optional: strings.Contains(flags, "ignore_errors=yes"),
				})
			}
		case "LoadState":
			props.loadState = value
		case "Environment":
			for _, word := range splitQuoted(value) {
				if k, v, ok := strings.Cut(word, "="); ok {
					props.env[k] = v
				}
			}
		}
	}
	return props
}

// expandUnitArgv substitutes the variables of ExecStart the way systemd does: "$VAR"
// alone becomes one argument per word of its value, "${VAR}" one argument. Environment
// files are read only when ExecStart uses a variable, and override Environment=.
func expandUnitArgv(ctx context.Context, h Host, unit unitProperties) ([]string, error) {
	if !strings.Contains(strings.Join(unit.argv, " "), "$") {
		return unit.argv, nil
	}
	env := unit.env
	for _, f := range unit.envFiles {
		if err := readEnvFile(ctx, h, f, unit.envCopies, env); err != nil {
			return nil, err
		}
	}

	lookup := func(name string) string { return env[name] }
	var argv []string
	for _, word := range unit.argv {
		if name, ok := strings.CutPrefix(word, "$"); ok && isEnvName(name) {
			argv = append(argv, strings.Fields(env[name])...)
			continue
		}
		argv = append(argv, os.Expand(word, lookup))
	}
	return argv, nil
}

func isEnvName(s string) bool {
	for i, r := range s {
		letter := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// readEnvFile adds the assignments of an environment file, such as /etc/default/docker,
// to env. It uses the copy in copies when there is one. Like systemd, it skips an
// optional file that is missing or not a regular file.
func readEnvFile(ctx context.Context, h Host, f envFile, copies map[string]envCopy,
	env map[string]string) error {
	text, err := envFileText(ctx, h, f.path, copies)
	if f.optional && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRegular)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read environment file %s: %w", f.path, err)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, maxEnvLine)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			env[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
		}
	}
	if sc.Err() != nil {
		return fmt.Errorf("read environment file %s: a line is over %d MiB, which "+
			"fleetharden does not read: shorten it", f.path, maxEnvLine>>20)
	}
	return nil
}

// maxEnvLine is the longest line of an environment file that readEnvFile parses. Files
// themselves are read up to 16 MiB.
const maxEnvLine = 16 << 20

// errNotRegular is returned for an environment file that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// envFileText returns the text of the environment file at path, from copies or else
// from the host.
func envFileText(ctx context.Context, h Host, path string, copies map[string]envCopy) (
	string, error) {
	switch c, ok := copies[path]; {
	case !ok:
	case c.kind == "missing":
		return "", fs.ErrNotExist
	case c.kind == "other":
		return "", errNotRegular
	default:
		return c.text, nil
	}
	file, err := h.ReadFile(ctx, path)
	if err != nil {
		return "", err
	}
	return string(file.Data), nil
}

// unquote removes one pair of matching single or double quotes around s.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// splitQuoted splits s at spaces outside double quotes and removes those quotes, as
// systemctl show quotes the items of Environment. Inside quotes, a backslash starts an
// escape as systemd writes them: \n and the other C letters, three octal digits, or the
// character itself, such as \" or \$.
func splitQuoted(s string) []string {
	var words []string
	var cur strings.Builder
	quoted, inWord := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quoted && i+1 < len(s):
			n, width := unescapeC(s[i+1:])
			cur.WriteByte(n)
			i += width
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
			}
			cur.Reset()
			inWord = false
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// unescapeC decodes the escape that s starts with, after its backslash, and returns the
// byte and the escape's length.
func unescapeC(s string) (byte, int) {
	if len(s) >= 3 && isOctal(s[0]) && isOctal(s[1]) && isOctal(s[2]) && s[0] <= '3' {
		return (s[0]-'0')<<6 | (s[1]-'0')<<3 | (s[2] - '0'), 3
	}
	if c, ok := cEscapes[s[0]]; ok {
		return c, 1
	}
	return s[0], 1
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// cEscapes maps the letter of each C escape that systemd writes to its byte.
var cEscapes = map[byte]byte{
	'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

// parseDaemonFlags parses dockerd's argv the way pflag does: "--name=value",
// "--name value", "-H value", "-Hvalue" and clustered short booleans such as "-D".
// Words before the dockerd binary, such as a wrapper, are skipped.
func parseDaemonFlags(argv []string) []daemonFlag {
	for i, word := range argv {
		if path.Base(word) == "dockerd" {
			argv = argv[i+1:]
			break
		}
	}

	var flags []daemonFlag
	for i := 0; i < len(argv); i++ {
		word := argv[i]
		if word == "--" {
			break
		}
		next := ""
		if i+1 < len(argv) {
			next = argv[i+1]
		}
		var used bool
		switch {
		case strings.HasPrefix(word, "--"):
			var f daemonFlag
			f, used = parseLongFlag(word, next)
			flags = append(flags, f)
		case strings.HasPrefix(word, "-") && len(word) > 1:
			var shorts []daemonFlag
			shorts, used = parseShortFlags(word, next)
			flags = append(flags, shorts...)
		}
		if used {
			i++
		}
	}
	return flags
}

// parseLongFlag parses "--name=value" or "--name", and reports whether the flag took next
// as its value.
func parseLongFlag(word, next string) (daemonFlag, bool) {
	name, value, hasValue := strings.Cut(word[2:], "=")
	if hasValue || !flagTakesValue(name, next) {
		return daemonFlag{Name: name, Value: value, Text: word}, false
	}
	return daemonFlag{Name: name, Value: next, Text: word + " " + next}, true
}

// parseShortFlags parses "-D", "-DH value", "-Hvalue" or "-H=value", and reports whether
// the last flag took next as its value.
func parseShortFlags(word, next string) ([]daemonFlag, bool) {
	var flags []daemonFlag
	for j := 1; j < len(word); j++ {
		name := word[j : j+1]
		if !flagTakesValue(name, next) {
			flags = append(flags, daemonFlag{Name: name, Text: "-" + name})
			continue
		}
		value := strings.TrimPrefix(word[j+1:], "=")
		if value != "" {
			return append(flags, daemonFlag{Name: name, Value: value, Text: "-" + name + " " + value}), false
		}
		return append(flags, daemonFlag{Name: name, Value: next, Text: "-" + name + " " + next}), true
	}
	return flags, false
}

// booleanDaemonFlags are dockerd flags without a value that set no daemon.json key.
var booleanDaemonFlags = map[string]bool{
	"validate": true, "version": true, "v": true, "help": true, "h": true,
	"restart": true, "r": true,
}

// flagTakesValue reports whether flag name reads the next word as its value. A flag this
// table does not know takes the next word unless that word is itself a flag.
func flagTakesValue(name, next string) bool {
	if booleanDaemonFlags[name] {
		return false
	}
	if keys := daemonFlagKeys[name]; len(keys) > 0 {
		return daemonKeys[keys[0]].Type != daemonBool
	}
	return !strings.HasPrefix(next, "-")
}

// daemonFlagKeys maps each dockerd flag name to the daemon.json keys it sets.
var daemonFlagKeys = indexDaemonFlags()

func indexDaemonFlags() map[string][]string {
	index := map[string][]string{}
	for _, key := range sortedKeys(daemonKeys) {
		for _, f := range daemonKeys[key].Flags {
			index[f] = append(index[f], key)
		}
	}
	for key := range proxyKeys {
		index[key] = append(index[key], key)
	}
	return index
}

// flagsFor returns the flags on cl that set key, which is a daemon.json key or a member
// of proxies.
func (cl *daemonCommandLine) flagsFor(key string) []daemonFlag {
	names := daemonKeys[key].Flags
	if proxyKeys[key] {
		names = []string{key}
	}
	var found []daemonFlag
	for _, f := range cl.Flags {
		for _, n := range names {
			if f.Name == n {
				found = append(found, f)
			}
		}
	}
	return found
}

// defaultConfigFile is the configuration file that dockerd reads without --config-file,
// when it runs as root.
const defaultConfigFile = "/etc/docker/daemon.json"

// effectiveConfigFile returns the configuration file that dockerd reads.
func (cl *daemonCommandLine) effectiveConfigFile() string {
	if cf := cl.configFile(); cf != "" {
		return cf
	}
	return defaultConfigFile
}

// configFile returns the value of --config-file, or "".
func (cl *daemonCommandLine) configFile() string {
	for _, f := range cl.Flags {
		if f.Name == "config-file" {
			return f.Value
		}
	}
	return ""
}
