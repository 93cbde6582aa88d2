package inventory

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

var (
	// iniSectionPattern matches a section header as Ansible 2.14 does: a group name and an
	// optional type after a colon in brackets, then optional spaces and a comment.
	iniSectionPattern = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$`)

	// iniChildPattern matches a line of a [GROUP:children] section as Ansible 2.14 does.
	iniChildPattern = regexp.MustCompile(`^([^:\]\s]+)\s*(?:#.*)?$`)
)

// Types of INI sections.
const (
	sectionHosts    = "hosts"
	sectionVars     = "vars"
	sectionChildren = "children"
)

// iniSection is the section of an INI inventory being read.
type iniSection struct {
	group string
	kind  string // sectionHosts, sectionVars, sectionChildren, or "" to skip its lines
}

// groupReference is a group that an INI inventory names in a [GROUP:vars] header or under
// [GROUP:children]. As in Ansible, a section of its own must define it.
type groupReference struct {
	name  string
	pos   Position
	where string // the header of the section that names the group
	vars  bool   // the reference is a [GROUP:vars] header
}

// iniParser reads an Ansible INI inventory into the structures of the Ansible YAML reader,
// so that both formats resolve hosts with the same code. Each INI value becomes a yaml.Node
// with the YAML tag of its Python type and the position of its text.
type iniParser struct {
	*ansibleParser
	section    iniSection
	defined    map[string]bool // groups that a [GROUP] or [GROUP:children] section defines
	references []groupReference
	groupVars  map[string]*yaml.Node // group name to a mapping of its [GROUP:vars] lines
	varsOrder  []string              // group names in groupVars, in file order
}

// parseINI reads data as an Ansible INI inventory and returns its hosts with their
// settings resolved, and the names of its groups.
func parseINI(d *document, data []byte) ([]*hostRecord, []string) {
	p := &iniParser{
		ansibleParser: newAnsibleParser(d, Position{File: d.file, Line: 1, Column: 1}),
		// Before the first header, host lines belong to the group ungrouped.
		section:   iniSection{group: ungroupedGroup, kind: sectionHosts},
		defined:   map[string]bool{allGroup: true, ungroupedGroup: true},
		groupVars: make(map[string]*yaml.Node),
	}

	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	for i, raw := range strings.Split(string(data), "\n") {
		p.parseLine(newINILine(i+1, strings.TrimSuffix(raw, "\r")))
	}
	for _, name := range p.varsOrder {
		p.parseGroupVars(p.groups[name], p.groupVars[name])
	}
	p.checkReferences()

	return p.resolve(), p.order[1:]
}

func (p *iniParser) parseLine(line iniText) {
	if line.text == "" || line.text[0] == '#' || line.text[0] == ';' {
		return
	}
	if !utf8.ValidString(line.text) {
		p.d.addError(line.position(p.d.file, invalidUTF8Offset(line.text)), "",
			"invalid text: the line is not valid UTF-8; save the file as UTF-8")
		return
	}

	if m := iniSectionPattern.FindStringSubmatch(line.text); m != nil {
		p.startSection(line, m[1], m[2])
		return
	}
	if strings.HasPrefix(line.text, "[") && strings.HasSuffix(line.text, "]") {
		p.d.addError(line.position(p.d.file, 0), line.text, "invalid section header %q: "+
			"write [GROUP], [GROUP:vars] or [GROUP:children], with no spaces inside the "+
			"brackets", line.text)
		p.section = iniSection{}
		return
	}

	switch p.section.kind {
	case sectionHosts:
		p.parseHostLine(line)
	case sectionVars:
		p.parseVarsLine(line)
	case sectionChildren:
		p.parseChildLine(line)
	}
}

func invalidUTF8Offset(text string) int {
	for i, r := range text {
		if r == utf8.RuneError {
			return i
		}
	}

	return 0
}

// startSection starts the section whose header on line names group and kind. After an
// invalid header, the lines up to the next header are skipped.
func (p *iniParser) startSection(line iniText, group, kind string) {
	p.section = iniSection{}
	pos := line.position(p.d.file, 1)
	if problem := checkGroupName(group); problem != "" {
		p.d.addError(pos, group, "invalid group name %q: %s", group, problem)
		return
	}

	switch kind {
	case "", sectionHosts:
		kind = sectionHosts
	case sectionVars, sectionChildren:
	default:
		p.d.addError(line.position(p.d.file, len(group)+2), kind, "unknown section type "+
			"%q in [%s:%s]: write [%s] for hosts, [%s:vars] for variables or "+
			"[%s:children] for child groups", kind, group, kind, group, group, group)
		return
	}

	p.group(group, pos)
	if kind == sectionVars {
		p.references = append(p.references, groupReference{name: group, pos: pos,
			where: "[" + group + ":vars]", vars: true})
	} else {
		p.defined[group] = true
	}
	p.section = iniSection{group: group, kind: kind}
}

// parseHostLine reads a host pattern and its variables, NAME=VALUE each.
func (p *iniParser) parseHostLine(line iniText) {
	words, problem := splitHostLine(line)
	if problem != nil {
		p.d.addError(line.position(p.d.file, problem.offset), "", "invalid host line: %s",
			problem.msg)
		return
	}

	if len(words) == 0 {
		return
	}
	host := words[0]
	switch {
	case host.text == "---":
		p.d.addError(host.startPosition(p.d.file), host.text, "'---' starts a YAML "+
			"document, but this file is read as an INI inventory; remove the line")
		return
	case strings.HasSuffix(host.text, ":"):
		p.d.addError(host.position(p.d.file, len(host.text)-1), host.text, "invalid host "+
			"%q: a ':' after the host name must be followed by the port; write "+
			"HOST:PORT, or remove the ':'", host.text)
		return
	}

	g := p.group(p.section.group, host.startPosition(p.d.file))
	entry := pair{name: host.text, key: host.stringNode(host.text), value: p.hostVars(words)}
	p.addHostEntry(g, entry)
}

// hostVars returns the variables after the host pattern in words as a mapping. As in
// Python, a name given twice keeps its first place and its last value.
func (p *iniParser) hostVars(words []iniText) *yaml.Node {
	vars := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: words[0].line,
		Column: words[0].start}
	index := make(map[string]int)

	for i, word := range words[1:] {
		name, _, found := strings.Cut(word.text, "=")
		if !found {
			p.d.addError(word.startPosition(p.d.file), word.text, "invalid host line: "+
				"expected NAME=VALUE after the host, got %q; %s", word.text,
				spaceAdvice(words[i]))
			continue
		}

		valueNode, ok := p.d.iniValue(name, word.slice(len(name)+1), true)
		if !ok {
			continue
		}
		if at, ok := index[name]; ok {
			vars.Content[at+1] = valueNode
			p.d.warnOnce("repeated "+word.startPosition(p.d.file).String(),
				word.startPosition(p.d.file), "%s is set twice on this line; the last "+
					"value wins", name)
			continue
		}
		index[name] = len(vars.Content)
		vars.Content = append(vars.Content, word.stringNode(name), valueNode)
	}

	return vars
}

// spaceAdvice returns how to write a value with spaces, the likely mistake when a word of
// a host line has no '='. previous is the word before that word.
func spaceAdvice(previous iniText) string {
	_, value, _ := strings.Cut(previous.text, "=")
	if strings.ContainsAny(value[:min(1, len(value))], "[{(") {
		return "a list or dict with spaces must be quoted as a whole, as in " +
			`docker_users='["alice", "bob"]'`
	}

	return "quote values that contain spaces, as in motd='hello world'"
}

// parseVarsLine reads NAME = VALUE in a [GROUP:vars] section. As in Ansible, the value is
// the rest of the line, which Python reads as a literal or keeps as text.
func (p *iniParser) parseVarsLine(line iniText) {
	name, _, found := strings.Cut(line.text, "=")
	if !found {
		p.d.addError(line.position(p.d.file, 0), line.text, "invalid line in "+
			"[%s:vars]: expected NAME = VALUE, got %q", p.section.group, line.text)
		return
	}

	start := len(name) + 1
	start += len(line.text[start:]) - len(strings.TrimLeftFunc(line.text[start:], unicode.IsSpace))
	name = strings.TrimRightFunc(name, unicode.IsSpace)
	value, ok := p.d.iniValue(name, line.slice(start), false)
	if !ok {
		return
	}

	p.setGroupVar(p.section.group, line.stringNode(name), value)
}

// setGroupVar sets a variable of group, replacing an earlier value of the same name.
func (p *iniParser) setGroupVar(group string, key, value *yaml.Node) {
	vars := p.groupVars[group]
	if vars == nil {
		vars = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: key.Line,
			Column: key.Column}
		p.groupVars[group] = vars
		p.varsOrder = append(p.varsOrder, group)
	}

	for i := 0; i < len(vars.Content); i += 2 {
		if vars.Content[i].Value == key.Value {
			vars.Content[i], vars.Content[i+1] = key, value
			return
		}
	}
	vars.Content = append(vars.Content, key, value)
}

// parseChildLine reads a group name in a [GROUP:children] section.
func (p *iniParser) parseChildLine(line iniText) {
	parent := p.section.group
	pos := line.position(p.d.file, 0)
	m := iniChildPattern.FindStringSubmatch(line.text)

	switch {
	case m == nil:
		p.d.addError(pos, line.text, "invalid line in [%s:children]: expected one group "+
			"name, got %q", parent, line.text)
		return
	case checkGroupName(m[1]) != "":
		p.d.addError(pos, m[1], "invalid group name %q: %s", m[1], checkGroupName(m[1]))
		return
	case m[1] == allGroup:
		p.d.addError(pos, m[1], "group all cannot be a child of %s, because all contains "+
			"every group already; remove it from there", parent)
		return
	}

	p.group(m[1], pos)
	p.addChild(p.groups[parent], m[1], pos)
	p.references = append(p.references, groupReference{name: m[1], pos: pos,
		where: "[" + parent + ":children]"})
}

// checkReferences records an error for each group that a [GROUP:vars] header or a
// [GROUP:children] section names, but no section defines. Ansible 2.14 rejects such a
// file, and the name is often a typo.
func (p *iniParser) checkReferences() {
	var defined []string
	for name := range p.defined {
		defined = append(defined, name)
	}

	for _, r := range p.references {
		if p.defined[r.name] {
			continue
		}

		msg := fmt.Sprintf("group %s in %s is not defined", r.name, r.where)
		if r.vars {
			msg = fmt.Sprintf("%s sets variables of group %s, which is not defined", r.where,
				r.name)
		}
		if near := closest(r.name, defined); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		p.d.addError(r.pos, r.name, "%s; define it with a [%s] or [%s:children] section, "+
			"which may be empty", msg, r.name, r.name)
	}
}
