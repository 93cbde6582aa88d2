package audit

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// controlFields are the fields a control may have.
var controlFields = []string{"id", "cis", "title", "section", "severity", "applies_if",
	"expect", "evidence", "remediation"}

// idRE matches a control id: lower-case words joined by dots and dashes.
var idRE = regexp.MustCompile(`^[a-z0-9]+([.-][a-z0-9]+)*$`)

// ParseControls reads a controls file held in data; file names it in errors. Every
// problem found is returned, joined, each an *Error with its line and column.
func ParseControls(file string, data []byte) ([]*Control, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, yamlSyntaxError(file, err)
	}
	p := &controlParser{file: file}
	list := p.controlList(&doc)
	if list == nil {
		return nil, errors.Join(p.errs...)
	}

	var controls []*Control
	seen := map[string]Position{}
	for _, item := range list.Content {
		c := p.control(item)
		if c == nil {
			continue
		}
		if first, dup := seen[c.ID]; dup {
			p.add(item, "duplicate control id %s: it is already defined at %s", c.ID, first)
			continue
		}
		seen[c.ID] = c.Pos
		controls = append(controls, c)
	}
	return controls, errors.Join(p.errs...)
}

// yamlLineRE matches the line number in yaml.v3's syntax errors.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlSyntaxError turns a YAML syntax error into an *Error that names the file and line.
// yaml.v3 gives no column, so the column is 1.
func yamlSyntaxError(file string, err error) error {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{Pos: Position{File: file, Line: 1, Column: 1},
			Msg: "invalid YAML: " + err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{Pos: Position{File: file, Line: line, Column: 1}, Msg: "invalid YAML: " + m[2]}
}

// controlParser collects the problems of one controls file.
type controlParser struct {
	file string
	errs []error
}

func (p *controlParser) pos(n *yaml.Node) Position {
	return Position{File: p.file, Line: n.Line, Column: n.Column}
}

func (p *controlParser) add(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: p.pos(n), Msg: fmt.Sprintf(format, args...)})
}

// controlList returns the sequence under the top-level key "controls", or nil.
func (p *controlParser) controlList(doc *yaml.Node) *yaml.Node {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		p.add(doc, "a controls file is a mapping with the key controls: a list of controls")
		return nil
	}
	top := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, value := top.Content[i], top.Content[i+1]
		switch {
		case key.Value != "controls":
			p.add(key, "unknown key %q: a controls file has only the key controls", key.Value)
		case value.Kind != yaml.SequenceNode:
			p.add(value, "controls must be a list of controls")
		default:
			list = value
		}
	}
	if list == nil && len(p.errs) == 0 {
		p.add(top, "missing controls: add a top-level controls list")
	}
	return list
}

// control reads one control, or returns nil when its id is missing or invalid.
func (p *controlParser) control(n *yaml.Node) *Control {
	if n.Kind != yaml.MappingNode {
		p.add(n, "a control must be a mapping with id, title, section, severity, expect "+
			"and remediation")
		return nil
	}
	c := &Control{Pos: p.pos(n), set: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if c.set[key.Value] {
			p.add(key, "duplicate field %s", key.Value)
			continue
		}
		if p.field(c, key, value) {
			c.set[key.Value] = true
		}
	}

	if c.ID == "" {
		if !c.set["id"] {
			p.add(n, "missing id: give the control an id such as daemon.live-restore")
		}
		return nil
	}
	return c
}

// field reads one field of a control, and reports whether it was valid.
func (p *controlParser) field(c *Control, key, value *yaml.Node) bool {
	errCount := len(p.errs)
	switch key.Value {
	case "id":
		c.ID = p.id(value)
	case "cis":
		c.CIS = p.stringList(value, "cis")
	case "title", "remediation":
		text := p.text(value, key.Value)
		if key.Value == "title" {
			c.Title = text
		} else {
			c.Remediation = text
		}
	case "section":
		c.Section = p.oneOf(value, "section", SectionDaemon, SectionFiles, SectionContainer)
	case "severity":
		c.Severity = Verdict(p.oneOf(value, "severity", string(Fail), string(Warn)))
	case "applies_if":
		c.appliesIf = p.condition(value)
	case "expect":
		c.expect = p.condition(value)
	case "evidence":
		c.evidence = p.evidence(value)
	default:
		p.add(key, "unknown field %q: a control has the fields %s", key.Value,
			strings.Join(controlFields, ", "))
	}
	return len(p.errs) == errCount
}

func (p *controlParser) id(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || !idRE.MatchString(n.Value) {
		p.add(n, "invalid id %q: use lower-case words joined by dots and dashes, such as "+
			"daemon.live-restore", n.Value)
		return ""
	}
	return n.Value
}

// text reads a non-empty string, folding its lines into one.
func (p *controlParser) text(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
		p.add(n, "%s must be a non-empty string", field)
		return ""
	}
	return strings.Join(strings.Fields(n.Value), " ")
}

func (p *controlParser) oneOf(n *yaml.Node, field string, allowed ...string) string {
	if n.Kind != yaml.ScalarNode || !slices.Contains(allowed, n.Value) {
		p.add(n, "invalid %s %q: use %s", field, n.Value, strings.Join(allowed, " or "))
		return ""
	}
	return n.Value
}

// stringList reads a string or a list of strings.
func (p *controlParser) stringList(n *yaml.Node, field string) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n, "%s must be a string or a list of strings", field)
		return nil
	}
	list := []string{}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			p.add(item, "%s must be a string or a list of strings", field)
			return nil
		}
		list = append(list, item.Value)
	}
	return list
}

// evidence reads one JSONPath expression or a list of them.
func (p *controlParser) evidence(n *yaml.Node) []jsonPath {
	var paths []jsonPath
	nodes := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		nodes = n.Content
	}
	for _, item := range nodes {
		if path, ok := p.jsonPath(item); ok {
			paths = append(paths, path)
		}
	}
	return paths
}

// jsonPath compiles a JSONPath expression, which must start at the root, $.
func (p *controlParser) jsonPath(n *yaml.Node) (jsonPath, bool) {
	text := strings.TrimSpace(n.Value)
	if n.Kind != yaml.ScalarNode || !strings.HasPrefix(text, "$") {
		p.add(n, "invalid path %q: write a JSONPath expression from the root, such as "+
			"$.daemon.icc", n.Value)
		return jsonPath{}, false
	}
	path, err := newJSONPath(text)
	if err != nil {
		p.add(n, "invalid path %q: %v", text, err)
		return jsonPath{}, false
	}
	return path, true
}
