package inventory

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	// userNamePattern matches portable login names: lowercase letters, digits, '_', '.'
	// and '-', not starting with a digit, '.' or '-', with an optional trailing '$' as in
	// Samba machine accounts. Such a name needs no quoting in a shell command.
	userNamePattern = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*[$]?$`)

	// groupNamePattern matches valid group names. Host patterns refer to groups by name, so
	// names keep to characters that patterns do not treat specially.
	groupNamePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

	// digitsPattern matches a decimal number written as a string, as Ansible accepts for
	// ansible_port.
	digitsPattern = regexp.MustCompile(`^[0-9]+$`)
)

// addressForbidden lists the characters that a host address must not contain: whitespace,
// shell metacharacters, glob characters, and the separators of login name, path and host
// pattern. Addresses end up in ssh command lines and logs, where any of these would change
// the meaning.
const addressForbidden = " \t\r\n;&|$`'\"\\<>(){}[]*?!#~@,/"

// fieldParser reads connection fields into a connection, naming owner as the place that
// set them. The Ansible format is lenient in the way Ansible is: a port may be a string of
// digits, and become may be "yes", "no" and the other forms that Ansible reads as booleans.
type fieldParser struct {
	d       *document
	owner   string
	ansible bool
}

// parseField reads the connection field named field from p into c.
func (f fieldParser) parseField(c *connection, field string, p pair) {
	switch field {
	case "address":
		setIfValid(&c.address, f, p, f.parseAddress)
	case "port":
		setIfValid(&c.port, f, p, f.parsePort)
	case "user":
		setIfValid(&c.user, f, p, f.parseUser)
	case "key":
		setIfValid(&c.key, f, p, f.parseKey)
	case "become":
		setIfValid(&c.become, f, p, f.parseBecome)
	}
}

func setIfValid[T comparable](s *setting[T], f fieldParser, p pair, parse func(pair) (T, bool)) {
	value, ok := parse(p)
	if ok {
		*s = setting[T]{value: value, set: true, pos: f.d.pos(p.value), owner: f.owner}
	}
}

func (f fieldParser) parseAddress(p pair) (string, bool) {
	text, ok := f.d.scalarText(p.value, p.name)
	if !ok {
		return "", false
	}
	if problem := checkAddress(text); problem != "" {
		f.d.addError(f.d.pos(p.value), text, "invalid %s %q: %s", p.name, text, problem)
		return "", false
	}

	return text, true
}

// checkAddress returns what is wrong with a host address, or "" if nothing is.
func checkAddress(address string) string {
	switch {
	case address == "":
		return "it is empty; write a host name or IP address"
	case strings.HasPrefix(address, "-"):
		return "it must not start with '-', which ssh would read as an option"
	case strings.Contains(address, "{{"):
		return "templates are not expanded; write the address itself"
	case strings.ContainsAny(address, "[]"):
		return "write IPv6 addresses without brackets and set the port with the port field"
	case strings.Contains(address, "@"):
		return "set the login name with the user field, not in the address"
	case strings.Count(address, ":") == 1:
		return "it contains a port; set the port with the port field"
	case strings.Trim(address, "0123456789.") == "" && net.ParseIP(address) == nil:
		// Digits and dots only make no host name, since a top-level domain is never
		// numeric, so this is a mistyped IPv4 address.
		return "it is not a valid IPv4 address: use four numbers from 0 to 255"
	}

	for _, r := range address {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(addressForbidden, r) {
			return fmt.Sprintf("it contains %q, which is not allowed in a host name or "+
				"IP address", r)
		}
	}

	return ""
}

func (f fieldParser) parsePort(p pair) (int, bool) {
	n := resolve(p.value)
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode && (tag == "!!int" ||
		f.ansible && tag == "!!str" && digitsPattern.MatchString(n.Value)) {
		port, err := strconv.Atoi(n.Value)
		if err == nil && port >= 1 && port <= 65535 {
			return port, true
		}
	}

	msg := "invalid %s %s: it must be an integer from 1 to 65535"
	if tag == "!!str" && digitsPattern.MatchString(n.Value) {
		msg += ", written without quotes"
	}
	f.d.addError(f.d.pos(n), n.Value, msg, p.name, describe(n))

	return 0, false
}

// parseInteger reads an integer, which the Ansible format also accepts as a string.
func (f fieldParser) parseInteger(p pair) (int, bool) {
	n := resolve(p.value)
	tag := n.ShortTag()
	if n.Kind == yaml.ScalarNode && (tag == "!!int" || f.ansible && tag == "!!str") {
		number, err := strconv.Atoi(n.Value)
		if err == nil {
			return number, true
		}
	}

	f.d.addError(f.d.pos(n), n.Value, "invalid %s %s: it must be an integer", p.name, describe(n))

	return 0, false
}

func (f fieldParser) parseUser(p pair) (string, bool) {
	text, ok := f.d.scalarText(p.value, p.name)
	if !ok {
		return "", false
	}
	if !userNamePattern.MatchString(text) {
		f.d.addError(f.d.pos(p.value), text, "invalid %s %q: a user name contains lowercase "+
			"letters, digits, '_', '.' and '-' and starts with a letter or '_'", p.name, text)
		return "", false
	}

	return text, true
}

// ansibleTrue and ansibleFalse are the strings that Ansible's boolean conversion reads as
// true and false, compared in lowercase.
var (
	ansibleTrue  = []string{"y", "yes", "on", "1", "true", "t"}
	ansibleFalse = []string{"n", "no", "off", "0", "false", "f"}
)

// yaml11Booleans are words that YAML 1.1 read as booleans and YAML 1.2, which yaml.v3
// follows here, reads as strings.
var yaml11Booleans = []string{"y", "yes", "on", "n", "no", "off"}

func (f fieldParser) parseBecome(p pair) (bool, bool) {
	n := resolve(p.value)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var value bool
		return value, n.Decode(&value) == nil
	}

	text := strings.ToLower(n.Value)
	if f.ansible && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!str" ||
		n.ShortTag() == "!!int") {
		if slices.Contains(ansibleTrue, text) || slices.Contains(ansibleFalse, text) {
			return slices.Contains(ansibleTrue, text), true
		}
	}

	msg := "invalid %s %s: it must be true or false"
	if !f.ansible && n.ShortTag() == "!!str" && slices.Contains(yaml11Booleans, text) {
		msg += " (YAML 1.2 reads yes, no, on and off as strings)"
	}
	f.d.addError(f.d.pos(n), n.Value, msg, p.name, describe(n))

	return false, false
}

// parseKey reads a private key path, expanding a leading ~ to the home directory and
// making a relative path absolute against the directory of the inventory file.
func (f fieldParser) parseKey(p pair) (string, bool) {
	path, ok := f.d.scalarText(p.value, p.name)
	if !ok {
		return "", false
	}

	problem := ""
	switch {
	case path == "":
		problem = "it is empty; leave the field out to use the SSH agent and default keys"
	case strings.ContainsAny(path, "\n\r\x00"):
		problem = "it contains a line break or NUL character"
	case strings.HasPrefix(path, "~") && path != "~" && !strings.HasPrefix(path, "~/"):
		problem = "only ~ and ~/ are expanded; write the full path of another user's files"
	}
	if problem != "" {
		f.d.addError(f.d.pos(p.value), path, "invalid %s %q: %s", p.name, path, problem)
		return "", false
	}

	return f.expandKeyPath(p, path)
}

func (f fieldParser) expandKeyPath(p pair, path string) (string, bool) {
	if path == "~" || strings.HasPrefix(path, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			f.d.addError(f.d.pos(p.value), path, "cannot expand ~ in %s %q: %v; write the "+
				"full path", p.name, path, err)
			return "", false
		}
		return filepath.Join(home, path[1:]), true
	}
	if filepath.IsAbs(path) {
		return filepath.Clean(path), true
	}

	joined := filepath.Join(filepath.Dir(f.d.file), path)
	if absolute, err := filepath.Abs(joined); err == nil {
		return absolute, true
	}

	return joined, true
}

// checkHostName returns what is wrong with a host name, or "" if nothing is. Host names are
// matched by host patterns, so they must not contain the characters that patterns use.
func checkHostName(name string) string {
	switch {
	case name == "":
		return "the host name is empty"
	case strings.ContainsAny(name[:1], "!&~"):
		return "it must not start with '!', '&' or '~', which host patterns use"
	case name == "." || name == "..":
		return "it must not be . or .., which name directories"
	}

	for _, r := range name {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(",*?[]", r) {
			return fmt.Sprintf("it contains %q; host names must not contain whitespace, "+
				"control characters, commas or the pattern characters * ? [ ]", r)
		}
		// Results and journals are kept in files named after the host.
		if r == '/' || r == '\\' {
			return fmt.Sprintf("it contains %q; host names must not contain slashes", r)
		}
	}

	return ""
}

// checkGroupName returns what is wrong with a group name, or "" if nothing is.
func checkGroupName(name string) string {
	if groupNamePattern.MatchString(name) {
		return ""
	}
	if name == "" {
		return "the group name is empty"
	}

	return "group names contain only letters, digits, '_', '.' and '-', and do not start " +
		"with '.' or '-'"
}
