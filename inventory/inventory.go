package inventory

import (
	"fmt"

	"github.com/fleetharden/fleetharden/internal/inputfile"
)

// Host is a machine that fleetharden connects to, with its settings merged from every
// place in the inventory that lists it.
//
// Vars holds the variables merged from all levels, decoded to plain Go types: nil, string,
// int, float64, bool, []any and map[string]any. Timestamps stay strings. Hosts that take a
// list or mapping from the same group share it, so callers must not modify the values.
type Host struct {
	Name    string
	Address string         // host name or IP address to connect to, Name by default
	Port    int            // SSH port, 22 by default
	User    string         // login name, the current OS user by default
	KeyFile string         // absolute path of the private key, "" for agent and default keys
	Become  bool           // whether to run commands as root with sudo
	Groups  []string       // sorted names of the groups that contain the host, "all" included
	Vars    map[string]any // never nil
	Pos     Position       // first place that lists the host
}

// Inventory is the content of one inventory file.
type Inventory struct {
	File     string
	Hosts    []*Host             // in the order of their first listing, each once
	Groups   map[string][]string // group name to the names of its hosts, in inventory order
	Warnings []string            // settings ignored or overridden, each "file:line:col: message"
}

// Load reads and parses the inventory file at path.
func Load(path string) (*Inventory, error) {
	data, err := inputfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}

	return Parse(path, data)
}

// Parse parses data, the content of the inventory file named file, in the fleetharden
// format or in Ansible's YAML or INI format (see the package documentation for how the
// format is detected). The file name appears in positions, and relative key paths are
// resolved against its directory. On failure the error joins an *Error for each problem
// found.
func Parse(file string, data []byte) (*Inventory, error) {
	d := &document{problems: problems{file: file}}

	switch detectSyntax(d, data) {
	case syntaxINI:
		records, groups := parseINI(d, data)
		return finishInventory(d, records, groups, Position{File: file, Line: 1, Column: 1},
			"add hosts under a [GROUP] section, or above the first section")
	case syntaxYAML:
		return parseYAML(d, data)
	default:
		return nil, d.err()
	}
}

// parseYAML parses data as a YAML inventory in the fleetharden or the Ansible format.
func parseYAML(d *document, data []byte) (*Inventory, error) {
	d.parseYAML(data)
	if d.root == nil {
		return nil, d.err()
	}

	var records []*hostRecord
	var groups []string
	hint := ""
	switch detectFormat(d) {
	case formatOwn:
		records, groups = parseOwn(d)
		hint = "add hosts under hosts or under groups.NAME.hosts (see inventory.example.yaml)"
	case formatAnsible:
		records, groups = parseAnsible(d)
		hint = "add hosts under all.hosts or under the hosts of a group"
	}

	return finishInventory(d, records, groups, d.pos(d.root), hint)
}

// finishInventory builds the inventory of records, or returns the errors recorded in d.
// An inventory without hosts is an error at start, with hint saying where hosts go.
func finishInventory(d *document, records []*hostRecord, groups []string, start Position,
	hint string) (*Inventory, error) {
	if len(records) == 0 && !d.hasErrors() {
		d.addError(start, "", "the inventory lists no hosts; %s", hint)
	}
	inv := buildInventory(d, records, groups)
	if d.hasErrors() {
		return nil, d.err()
	}

	return inv, nil
}
