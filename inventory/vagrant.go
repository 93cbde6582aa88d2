package inventory

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// vagrantMachine is one Host block of `vagrant ssh-config` output.
type vagrantMachine struct {
	name    string
	line    int // line of the Host keyword
	address string
	port    int
	user    string
	key     string   // the first IdentityFile, "" if there is none
	ignored []string // keywords of other options, which the inventory cannot hold
}

// vagrantIgnoredKeywords are the ssh_config keywords, in lowercase, that Vagrant writes
// and that an inventory does not need, because fleetharden logs in with keys only, checks
// host keys itself and never forwards the agent or X11.
var vagrantIgnoredKeywords = []string{
	"userknownhostsfile", "stricthostkeychecking", "passwordauthentication",
	"identitiesonly", "loglevel", "forwardagent", "forwardx11", "pubkeyacceptedkeytypes",
	"pubkeyacceptedalgorithms", "hostkeyalgorithms",
}

// vagrantUser is the login name that Vagrant boxes give sudo without a password.
const vagrantUser = "vagrant"

// FromVagrantSSHConfig converts the output of `vagrant ssh-config` into an inventory in
// the fleetharden format. Each Host block becomes a host with its HostName, Port, User and
// first IdentityFile, and become is true because Vagrant boxes let the vagrant user run
// sudo without a password. A header comment says how to record the host keys, which
// Vagrant's own settings leave unchecked. The error joins one error for each invalid
// line.
func FromVagrantSSHConfig(r io.Reader) ([]byte, error) {
	machines, err := readVagrantSSHConfig(r)
	if err != nil {
		return nil, err
	}
	if len(machines) == 0 {
		return nil, errors.New("read vagrant ssh-config: no Host block found; pipe the " +
			"output of `vagrant ssh-config` in while the machines are running")
	}

	body, err := vagrantInventoryYAML(machines)
	if err != nil {
		return nil, fmt.Errorf("write vagrant inventory: %w", err)
	}

	return append([]byte(vagrantHeader(machines)), body...), nil
}

// readVagrantSSHConfig reads the Host blocks of ssh_config text. Keywords are matched in
// any case, and a keyword and its argument are separated by spaces or '=', as ssh_config
// allows.
func readVagrantSSHConfig(r io.Reader) ([]*vagrantMachine, error) {
	var machines []*vagrantMachine
	var errs []error
	scanner := bufio.NewScanner(r)
	scanner.Buffer(nil, 1<<20)

	for number := 1; scanner.Scan(); number++ {
		keyword, argument := splitSSHConfigLine(scanner.Text())
		var err error
		switch {
		case keyword == "":
			continue
		case strings.EqualFold(keyword, "host"):
			var machine *vagrantMachine
			machine, err = newVagrantMachine(argument, number)
			if machine != nil {
				machines = append(machines, machine)
			}
		case len(machines) == 0:
			// Text before the first Host line is not `vagrant ssh-config` output, and
			// may be one of its error messages, so one error for it is enough.
			return nil, fmt.Errorf("read vagrant ssh-config: line %d: expected a Host "+
				"line, got %s; the input must be `vagrant ssh-config` output", number,
				shorten(strings.TrimSpace(scanner.Text())))
		default:
			err = machines[len(machines)-1].setOption(keyword, argument)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read vagrant ssh-config: line %d: %w", number,
				err))
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read vagrant ssh-config: %w", err)
	}

	for _, m := range machines {
		errs = append(errs, m.check()...)
	}

	return machines, errors.Join(errs...)
}

// splitSSHConfigLine returns the keyword of an ssh_config line and its argument without
// quotes, or "" for a blank line or a comment.
func splitSSHConfigLine(line string) (string, string) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", ""
	}

	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return line, ""
	}
	argument := strings.TrimLeft(line[end:], " \t")
	argument = strings.TrimPrefix(argument, "=")
	argument = strings.TrimSpace(argument)
	if len(argument) >= 2 && strings.HasPrefix(argument, `"`) && strings.HasSuffix(argument, `"`) {
		argument = argument[1 : len(argument)-1]
	}

	return line[:end], argument
}

// newVagrantMachine returns the machine of a Host line at line, whose argument is name.
func newVagrantMachine(name string, line int) (*vagrantMachine, error) {
	if strings.ContainsAny(name, " \t") {
		return nil, fmt.Errorf("the Host line names several hosts (%s); give each "+
			"machine a Host line of its own, as `vagrant ssh-config` does", name)
	}

	// As in ssh, the host name is the address unless HostName sets one.
	return &vagrantMachine{name: name, line: line, address: name, port: defaultPort}, nil
}

// setOption applies an option of the Host block of m.
func (m *vagrantMachine) setOption(keyword, argument string) error {
	lower := strings.ToLower(keyword)

	switch lower {
	case "hostname":
		m.address = argument
	case "user":
		m.user = argument
	case "identityfile":
		if m.key == "" {
			m.key = argument
		}
	case "port":
		port, err := strconv.Atoi(argument)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("invalid Port %q of host %s: it must be an integer from 1 "+
				"to 65535", argument, m.name)
		}
		m.port = port
	default:
		if !slices.Contains(vagrantIgnoredKeywords, lower) {
			m.ignored = append(m.ignored, keyword)
		}
	}

	return nil
}

// check returns an error for each setting of m that the fleetharden format rejects.
func (m *vagrantMachine) check() []error {
	var problems []string
	if problem := checkHostName(m.name); problem != "" {
		problems = append(problems, "invalid host name: "+problem)
	}
	if problem := checkAddress(m.address); problem != "" {
		problems = append(problems, fmt.Sprintf("invalid HostName %q: %s", m.address, problem))
	}
	if m.user != "" && !userNamePattern.MatchString(m.user) {
		problems = append(problems, fmt.Sprintf("invalid User %q: a user name contains "+
			"lowercase letters, digits, '_', '.' and '-' and starts with a letter or '_'",
			m.user))
	}

	var errs []error
	for _, problem := range problems {
		errs = append(errs, fmt.Errorf("read vagrant ssh-config: host %s at line %d: %s",
			m.name, m.line, problem))
	}

	return errs
}

// vagrantInventoryYAML returns the inventory of machines in the fleetharden format, with
// the hosts in the order of the input.
func vagrantInventoryYAML(machines []*vagrantMachine) ([]byte, error) {
	hosts := &yaml.Node{Kind: yaml.MappingNode}
	for _, m := range machines {
		host := &yaml.Node{Kind: yaml.MappingNode}
		addYAMLField(host, "address", m.address, "!!str")
		addYAMLField(host, "port", strconv.Itoa(m.port), "!!int")
		if m.user != "" {
			addYAMLField(host, "user", m.user, "!!str")
		}
		if m.key != "" {
			addYAMLField(host, "key", m.key, "!!str")
		}
		hosts.Content = append(hosts.Content, yamlString(m.name), host)
	}

	root := &yaml.Node{Kind: yaml.MappingNode}
	addYAMLField(root, "become", "true", "!!bool")
	root.Content = append(root.Content, yamlString("hosts"), hosts)

	var out bytes.Buffer
	encoder := yaml.NewEncoder(&out)
	encoder.SetIndent(2)
	if err := encoder.Encode(root); err != nil {
		return nil, err
	}
	if err := encoder.Close(); err != nil {
		return nil, err
	}

	return out.Bytes(), nil
}

func addYAMLField(mapping *yaml.Node, key, value, tag string) {
	mapping.Content = append(mapping.Content, yamlString(key),
		&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
}

func yamlString(value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
}

// vagrantHeader returns the comment at the top of a generated inventory: where it comes
// from, how to record the host keys, and the settings of machines that it leaves out.
func vagrantHeader(machines []*vagrantMachine) string {
	lines := []string{
		"Inventory of Vagrant machines, written by `fleetharden inventory from-vagrant`",
		"from `vagrant ssh-config` output. Write it again after `vagrant up` or `vagrant",
		"reload`, because Vagrant may then forward other ports.",
		"",
		"Vagrant turns host key checks off for its machines (StrictHostKeyChecking no,",
		"UserKnownHostsFile /dev/null). fleetharden does not copy those settings and",
		"always checks host keys. Record the keys of these machines once, in a",
		"known_hosts file kept for this lab only:",
		"",
		"  fleetharden check -i INVENTORY --accept-new-host-keys \\",
		"    --known-hosts .vagrant/fleetharden_known_hosts",
		"",
		"and pass the same --known-hosts on every later run. A file of its own keeps",
		"these keys out of ~/.ssh/known_hosts, where another lab that reuses the same",
		"127.0.0.1 ports would clash with them. Delete it after `vagrant destroy`,",
		"because new machines have new host keys.",
		"",
		"Vagrant boxes let the vagrant user run sudo without a password, so become is",
		"true.",
	}
	lines = append(lines, vagrantNotes(machines)...)

	var header strings.Builder
	for _, line := range lines {
		header.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	header.WriteString("\n")

	return header.String()
}

// vagrantNotes returns a line for each machine that logs in as another user than vagrant
// or that sets ssh options the inventory cannot hold.
func vagrantNotes(machines []*vagrantMachine) []string {
	var notes []string
	for _, m := range machines {
		switch m.user {
		case vagrantUser:
		case "":
			notes = append(notes, fmt.Sprintf("%s sets no User, so fleetharden logs in as "+
				"the user running it, who must be able to run sudo.", m.name))
		default:
			notes = append(notes, fmt.Sprintf("%s logs in as %s, not vagrant: make sure "+
				"%s may run sudo without a password, or run with --ask-become-pass.",
				m.name, m.user, m.user))
		}
		if len(m.ignored) > 0 {
			notes = append(notes, fmt.Sprintf("%s: the ssh options %s are left out, "+
				"because an inventory cannot hold them.", m.name, strings.Join(m.ignored, ", ")))
		}
	}

	var lines []string
	for _, note := range notes {
		lines = append(lines, "")
		lines = append(lines, wrapWords(note, 86)...)
	}

	return lines
}

// wrapWords splits text into lines of at most width bytes, breaking between words. A
// word longer than width gets a line of its own.
func wrapWords(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}

	return append(lines, line)
}
