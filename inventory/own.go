package inventory

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Keys of the fleetharden format at each level.
var (
	fleetKeys = []string{"user", "port", "key", "become", "vars", "groups", "hosts"}
	groupKeys = []string{"user", "port", "key", "become", "vars", "hosts"}
	hostKeys  = []string{"address", "port", "user", "key", "become", "vars"}
)

// scope is the connection fields and variables that one place in the file sets.
type scope struct {
	connection connection
	vars       variables
}

// hostEntry is one listing of a host: a key under some "hosts" mapping.
type hostEntry struct {
	name string
	pos  Position
	scope
}

// ownGroup is a group of the fleetharden format.
type ownGroup struct {
	name  string
	pos   Position
	hosts []*hostEntry
	scope
}

// ownParser reads an inventory in the fleetharden format.
type ownParser struct {
	d        *document
	fleet    scope
	groups   []*ownGroup
	topHosts []*hostEntry // entries of the top-level hosts mapping
}

// parseOwn reads d in the fleetharden format and returns its hosts with their settings
// resolved, and the names of its groups.
func parseOwn(d *document) ([]*hostRecord, []string) {
	o := &ownParser{d: d}
	o.parseFleet(d.root)

	var names []string
	for _, g := range o.groups {
		names = append(names, g.name)
	}

	return o.resolve(), names
}

func (o *ownParser) parseFleet(root *yaml.Node) {
	fields := fieldParser{d: o.d, owner: "the top level"}

	for _, p := range entries(root) {
		switch p.name {
		case "user", "port", "key", "become":
			fields.parseField(&o.fleet.connection, p.name, p)
		case "vars":
			o.fleet.vars = o.parseVars(p.value, "top-level vars")
		case "groups":
			o.parseGroups(p.value)
		case "hosts":
			o.topHosts = o.parseHosts(p.value, "top-level hosts", "its entry under hosts")
		default:
			o.d.unknownKey(p, "the top level", fleetKeys,
				"hosts go under hosts or under groups.NAME.hosts")
		}
	}
}

func (o *ownParser) parseVars(n *yaml.Node, label string) variables {
	pairs := o.d.mapping(n, label, "variable names to values")

	vars := make(variables)
	for _, p := range pairs {
		if !o.d.checkVariableName(p) {
			continue
		}
		value, ok := o.d.plainValue(p.value, "variable "+p.name)
		if ok {
			vars[p.name] = variable{value: value, pos: o.d.pos(p.key)}
		}
	}

	return vars
}

func (o *ownParser) parseGroups(n *yaml.Node) {
	pairs := o.d.mapping(n, "groups", "group names to groups")

	for _, p := range pairs {
		if problem := checkGroupName(p.name); problem != "" {
			o.d.addError(o.d.pos(p.key), p.name, "invalid group name %q: %s", p.name, problem)
			continue
		}
		if p.name == "all" {
			o.d.addError(o.d.pos(p.key), p.name, "group name all is reserved for the group "+
				"of every host; set fleet-wide settings at the top level instead")
			continue
		}
		o.groups = append(o.groups, o.parseGroup(p))
	}
}

func (o *ownParser) parseGroup(p pair) *ownGroup {
	g := &ownGroup{name: p.name, pos: o.d.pos(p.key)}
	where := "group " + g.name
	fields := fieldParser{d: o.d, owner: where}
	pairs := o.d.mapping(p.value, where, "group settings ("+strings.Join(groupKeys, ", ")+")")

	for _, q := range pairs {
		switch q.name {
		case "user", "port", "key", "become":
			fields.parseField(&g.connection, q.name, q)
		case "vars":
			g.vars = o.parseVars(q.value, "vars of "+where)
		case "hosts":
			g.hosts = o.parseHosts(q.value, "hosts of "+where, "its entry in "+where)
		default:
			o.d.unknownKey(q, where, groupKeys, groupKeyHint(q.name))
		}
	}

	return g
}

// groupKeyHint returns advice for an unknown group key: nesting, as in Ansible, and host
// settings written one level too high are common mistakes.
func groupKeyHint(key string) string {
	switch {
	case key == "children":
		return "groups do not nest in the fleetharden format, so list each host in every " +
			"group it belongs to"
	case key == "address" || strings.HasPrefix(key, "ansible_"):
		return "host settings go under hosts.NAME"
	default:
		return ""
	}
}

// parseHosts reads a mapping of host names to host settings. The label names the mapping
// in error messages, and owner names each entry in conflict messages.
func (o *ownParser) parseHosts(n *yaml.Node, label, owner string) []*hostEntry {
	pairs := o.d.mapping(n, label, "host names to host settings")

	var hosts []*hostEntry
	for _, p := range pairs {
		if problem := checkHostName(p.name); problem != "" {
			o.d.addError(o.d.pos(p.key), p.name, "invalid host name %q in %s: %s",
				p.name, label, problem)
			continue
		}
		hosts = append(hosts, o.parseHost(p, owner))
	}

	return hosts
}

func (o *ownParser) parseHost(p pair, owner string) *hostEntry {
	entry := &hostEntry{name: p.name, pos: o.d.pos(p.key)}
	where := "host " + p.name
	fields := fieldParser{d: o.d, owner: owner}
	pairs := o.d.mapping(p.value, where, "host settings ("+strings.Join(hostKeys, ", ")+")")

	for _, q := range pairs {
		switch q.name {
		case "address", "port", "user", "key", "become":
			fields.parseField(&entry.connection, q.name, q)
		case "vars":
			entry.vars = o.parseVars(q.value, "vars of "+where)
		default:
			o.d.unknownKey(q, where, hostKeys, hostKeyHint(q.name))
		}
	}

	return entry
}

func hostKeyHint(key string) string {
	if strings.HasPrefix(key, "ansible_") {
		return "ansible_* keys belong to Ansible inventories: use the fleetharden keys, or " +
			"wrap an Ansible inventory in all: to read it as one"
	}
	if variableNamePattern.MatchString(key) {
		return fmt.Sprintf("if %s is a variable, put it under vars", key)
	}

	return ""
}
