package inventory

import (
	"errors"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ansibleConnectionVars lists, for each connection field, the Ansible variables that set it,
// with the names that Ansible 2.14 reads. When one mapping sets several names of a field,
// the first listed wins.
var ansibleConnectionVars = []struct {
	field string
	names []string
}{
	{"address", []string{"ansible_host", "ansible_ssh_host"}},
	{"port", []string{"ansible_port", "ansible_ssh_port"}},
	{"user", []string{"ansible_user", "ansible_ssh_user"}},
	{"key", []string{"ansible_ssh_private_key_file", "ansible_private_key_file"}},
	{"become", []string{"ansible_become"}},
}

// readAnsibleVars names the ansible_* variables that fleetharden reads, for messages.
const readAnsibleVars = "ansible_host, ansible_port, ansible_user, " +
	"ansible_ssh_private_key_file, ansible_become and ansible_group_priority"

// ansibleGroup is a group of an Ansible inventory, merged from all its definitions.
type ansibleGroup struct {
	name     string
	pos      Position // first definition
	priority int      // ansible_group_priority, which orders groups of equal depth
	children []*groupEdge
	isChild  map[string]bool // names of the groups in children
	scope                    // from the vars of all definitions, later ones winning
}

// groupEdge is a group listed under the children of another.
type groupEdge struct {
	child string
	pos   Position
	back  bool // the edge closes a cycle and is left out of the hierarchy
}

// ansibleHost is every listing of one host in an Ansible inventory.
type ansibleHost struct {
	name    string
	entries []*hostEntry
	groups  []string        // groups that list the host under their hosts
	inGroup map[string]bool // the names in groups
}

// ansibleParser reads an Ansible YAML inventory.
type ansibleParser struct {
	d      *document
	groups map[string]*ansibleGroup
	order  []string // group names in the order of their first definition
	hosts  map[string]*ansibleHost
	listed []string // host names in the order of their first listing

	rangeHosts int // host names that ranges have produced so far
}

// parseAnsible reads d as an Ansible inventory and returns its hosts with their settings
// resolved, and the names of its groups.
func parseAnsible(d *document) ([]*hostRecord, []string) {
	a := newAnsibleParser(d, d.pos(d.root))

	for _, p := range entries(d.root) {
		if p.name == allGroup {
			a.parseGroup(p, "")
		} else {
			a.parseGroup(p, allGroup)
		}
	}

	return a.resolve(), a.order[1:]
}

// newAnsibleParser returns a parser with the group all, defined at pos.
func newAnsibleParser(d *document, pos Position) *ansibleParser {
	a := &ansibleParser{
		d:      d,
		groups: make(map[string]*ansibleGroup),
		hosts:  make(map[string]*ansibleHost),
	}
	a.group(allGroup, pos)

	return a
}

// group returns the group named name, creating it if it is new.
func (a *ansibleParser) group(name string, pos Position) *ansibleGroup {
	g := a.groups[name]
	if g == nil {
		g = &ansibleGroup{
			name:     name,
			pos:      pos,
			priority: 1,
			isChild:  make(map[string]bool),
			scope:    scope{vars: make(variables)},
		}
		a.groups[name] = g
		a.order = append(a.order, name)
	}

	return g
}

// parseGroup reads one definition of a group, parent being the group whose children list
// it, or "" for a top-level "all".
func (a *ansibleParser) parseGroup(p pair, parent string) {
	if problem := checkGroupName(p.name); problem != "" {
		a.d.addError(a.d.pos(p.key), p.name, "invalid group name %q: %s", p.name, problem)
		return
	}
	if parent != "" && p.name == allGroup {
		a.d.addError(a.d.pos(p.key), p.name, "group all cannot be a child of %s, because "+
			"all contains every group already; remove it from there", parent)
		return
	}

	g := a.group(p.name, a.d.pos(p.key))
	if parent != "" {
		a.addChild(a.groups[parent], g.name, a.d.pos(p.key))
	}

	where := "group " + g.name
	pairs := a.d.mapping(p.value, where, "hosts, children and vars")
	for _, q := range pairs {
		switch q.name {
		case "hosts":
			a.parseHosts(g, q.value)
		case "children":
			children := a.section(q.value, "children of "+where, "group names to groups")
			for _, child := range children {
				a.parseGroup(child, g.name)
			}
		case "vars":
			a.parseGroupVars(g, q.value)
		default:
			a.d.unknownKey(q, where, ansibleGroupKeys,
				"list hosts under hosts and child groups under children")
		}
	}
}

func (a *ansibleParser) addChild(parent *ansibleGroup, child string, pos Position) {
	if !parent.isChild[child] {
		parent.isChild[child] = true
		parent.children = append(parent.children, &groupEdge{child: child, pos: pos})
	}
}

// section returns the pairs of a hosts or children mapping. Like Ansible, it reads a
// plain string as a mapping with that one key.
func (a *ansibleParser) section(n *yaml.Node, label, expected string) []pair {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		empty := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		return []pair{{name: n.Value, key: n, value: empty}}
	}

	return a.d.mapping(n, label, expected)
}

func (a *ansibleParser) parseGroupVars(g *ansibleGroup, n *yaml.Node) {
	settings, others := a.parseVars(n, "vars of group "+g.name, "group "+g.name)
	g.connection.override(settings.connection)
	for name, v := range settings.vars {
		g.vars[name] = v
	}

	for _, p := range others {
		if p.name != "ansible_group_priority" {
			a.ignoreVar(p)
			continue
		}
		if priority, ok := (fieldParser{d: a.d, ansible: true}).parseInteger(p); ok {
			g.priority = priority
		}
	}
}

func (a *ansibleParser) parseHosts(g *ansibleGroup, n *yaml.Node) {
	for _, p := range a.section(n, "hosts of group "+g.name, "host names to host variables") {
		a.addHostEntry(g, p)
	}
}

// addHostEntry adds the hosts that the host key of p names to g, with the variables in
// the value of p.
func (a *ansibleParser) addHostEntry(g *ansibleGroup, p pair) {
	owner := "its entry in group " + g.name
	names, port, ok := a.expandHostKey(p)
	if !ok {
		return
	}

	settings, others := a.parseVars(p.value, "variables of host "+p.name, owner)
	for _, other := range others {
		a.ignoreVar(other)
	}
	// As in Ansible, ansible_port in the host variables wins over a port in the key.
	if port != 0 && !settings.connection.port.set {
		settings.connection.port = setting[int]{value: port, set: true,
			pos: a.d.pos(p.key), owner: owner}
	}

	for _, name := range names {
		a.addHost(g, name, &hostEntry{name: name, pos: a.d.pos(p.key), scope: settings})
	}
}

// expandHostKey expands the host key of p, keeping the hosts that ranges produce in the
// whole file under maxFileRangeHosts.
func (a *ansibleParser) expandHostKey(p pair) ([]string, int, bool) {
	limit := min(maxRangeHosts, maxFileRangeHosts-a.rangeHosts)
	names, port, err := expandHostKey(p.name, limit)

	switch {
	case errors.Is(err, errTooManyHosts) && limit < maxRangeHosts:
		a.d.addError(a.d.pos(p.key), p.name, "invalid host key %q: the host ranges of this "+
			"file expand to more than %d hosts; split the inventory", p.name, maxFileRangeHosts)
	case errors.Is(err, errTooManyHosts):
		a.d.addError(a.d.pos(p.key), p.name, "invalid host key %q: it expands to more than "+
			"%d hosts", p.name, maxRangeHosts)
	case err != nil:
		a.d.addError(a.d.pos(p.key), p.name, "invalid host key %q: %v", p.name, err)
	}
	if err != nil {
		return nil, 0, false
	}

	if strings.Contains(p.name, "[") {
		a.rangeHosts += len(names)
	}

	return names, port, true
}

func (a *ansibleParser) addHost(g *ansibleGroup, name string, entry *hostEntry) {
	if problem := checkHostName(name); problem != "" {
		a.d.addError(entry.pos, name, "invalid host name %q in group %s: %s",
			name, g.name, problem)
		return
	}

	h := a.hosts[name]
	if h == nil {
		h = &ansibleHost{name: name, inGroup: make(map[string]bool)}
		a.hosts[name] = h
		a.listed = append(a.listed, name)
	}
	h.entries = append(h.entries, entry)
	if !h.inGroup[g.name] {
		h.inGroup[g.name] = true
		h.groups = append(h.groups, g.name)
	}
}

// parseVars reads Ansible variables, moving the connection variables into the connection
// of the returned scope. It returns the other ansible_* variables separately, because the
// caller decides which of them to read.
func (a *ansibleParser) parseVars(n *yaml.Node, label, owner string) (scope, []pair) {
	pairs := a.d.mapping(n, label, "variable names to values")
	settings := scope{vars: make(variables)}
	connectionPairs := make(map[string]pair)

	var others []pair
	for _, p := range pairs {
		switch {
		case !a.d.checkVariableName(p):
		case isConnectionVar(p.name):
			connectionPairs[p.name] = p
		case strings.HasPrefix(p.name, "ansible_"):
			others = append(others, p)
		default:
			value, ok := a.d.plainValue(p.value, "variable "+p.name)
			if ok {
				settings.vars[p.name] = variable{value: value, pos: a.d.pos(p.key)}
			}
		}
	}

	fields := fieldParser{d: a.d, owner: owner, ansible: true}
	for _, spec := range ansibleConnectionVars {
		for _, name := range spec.names {
			if p, ok := connectionPairs[name]; ok {
				fields.parseField(&settings.connection, spec.field, p)
				break
			}
		}
	}

	return settings, others
}

func isConnectionVar(name string) bool {
	for _, spec := range ansibleConnectionVars {
		if slices.Contains(spec.names, name) {
			return true
		}
	}

	return false
}

// ignoreVar warns once per variable name that an ansible_* variable is not read. Any
// variable whose name contains "pass" is taken for a secret.
func (a *ansibleParser) ignoreVar(p pair) {
	pos := a.d.pos(p.key)
	if strings.Contains(p.name, "pass") {
		a.d.warnOnce("secret "+p.name, pos, "%s is ignored: fleetharden never reads "+
			"secrets from inventories; give the sudo password with --become-pass-file and "+
			"log in with SSH keys", p.name)
		return
	}

	a.d.warnOnce("ignored "+p.name, pos, "%s is ignored: of the ansible_* variables, "+
		"fleetharden reads only %s", p.name, readAnsibleVars)
}
