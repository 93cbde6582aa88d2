package playbook

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/fleetharden/fleetharden/tasks"
)

// templateRE matches `{{ name }}` and `{{ name | default(value) }}`, where value is a YAML
// flow value such as [], false or 'text'. Other text between braces, such as a Go template
// `{{.Server.Version}}` given to a command, is left as it is.
var templateRE = regexp.MustCompile(
	`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\((.*?)\)\s*)?\}\}`)

// expander expands variables in argument nodes for one host.
type expander struct {
	host string
	vars map[string]any
}

// maxArgumentNodes bounds the YAML nodes that one argument may expand to through aliases.
// A few hundred bytes of nested aliases can otherwise stand for billions of nodes.
const maxArgumentNodes = 100_000

// value converts n to plain Go values, expanding templates in strings. A string that is one
// template and nothing else takes the variable's own type, so a list variable stays a list.
func (e *expander) value(n *yaml.Node) (any, error) {
	w := &nodeWalk{expander: e, open: map[*yaml.Node]bool{}}
	return w.value(n)
}

// shellValue converts n as value does, for a shell command. A template inside other text
// expands to its value quoted as one shell word, so a variable cannot add commands. A
// template that is the whole value stands for the whole command and expands as it is.
func (e *expander) shellValue(n *yaml.Node) (any, error) {
	w := &nodeWalk{expander: e, open: map[*yaml.Node]bool{}, shell: true}
	return w.value(n)
}

// nodeWalk converts one argument node. It counts the nodes it visits and keeps the anchored
// nodes it is inside, so aliases can neither recurse nor multiply without bound.
type nodeWalk struct {
	*expander
	nodes int
	open  map[*yaml.Node]bool
	shell bool // quote the values of templates inside text as shell words
}

func (w *nodeWalk) value(n *yaml.Node) (any, error) {
	w.nodes++
	if w.nodes > maxArgumentNodes {
		return nil, fmt.Errorf("the value expands to more than %d YAML nodes through "+
			"aliases: write it out or use fewer aliases", maxArgumentNodes)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if w.open[n.Alias] {
			return nil, fmt.Errorf("alias *%s is inside the value it refers to", n.Value)
		}
		w.open[n.Alias] = true
		defer delete(w.open, n.Alias)
		return w.value(n.Alias)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := w.value(item)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.MappingNode:
		if len(n.Content) > 0 && n.Content[0].Kind == yaml.MappingNode {
			return nil, fmt.Errorf("a template must be quoted: write \"{{ name }}\", " +
				"since YAML reads bare braces as a mapping")
		}
		return w.mapping(n)
	}
	if n.Tag != "!!str" {
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid value %q: %w", n.Value, err)
		}
		return v, nil
	}
	return w.expandText(n.Value, w.shell)
}

func (w *nodeWalk) mapping(n *yaml.Node) (map[string]any, error) {
	m := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		v, err := w.value(n.Content[i+1])
		if err != nil {
			return nil, err
		}
		m[n.Content[i].Value] = v
	}
	return m, nil
}

// filterRE matches a template with a filter other than default, which is not expanded.
var filterRE = regexp.MustCompile(`\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\|\s*([A-Za-z_]*)`)

// hasTemplate reports whether any string under n holds a template.
func hasTemplate(n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode {
		return templateRE.MatchString(n.Value)
	}
	for _, c := range n.Content {
		if hasTemplate(c) {
			return true
		}
	}
	return false
}

func (e *expander) expandString(s string) (any, error) {
	return e.expandText(s, false)
}

// expandText expands the templates in s. With shell, the value of a template inside other
// text is quoted as one shell word.
func (e *expander) expandText(s string, shell bool) (any, error) {
	for _, m := range filterRE.FindAllStringSubmatch(s, -1) {
		if m[1] != "default" {
			return nil, fmt.Errorf("unsupported filter %q in %q: only {{ name }} and "+
				"{{ name | default(VALUE) }} are expanded", m[1], s)
		}
	}
	locs := templateRE.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return s, nil
	}
	if len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(s) {
		return e.lookup(s, locs[0])
	}

	var b strings.Builder
	last := 0
	for _, loc := range locs {
		b.WriteString(s[last:loc[0]])
		v, err := e.lookup(s, loc)
		if err != nil {
			return nil, err
		}
		switch v.(type) {
		case []any, map[string]any:
			return nil, fmt.Errorf("variable %s is a %s and cannot be part of a string: "+
				"use it alone as the whole value", s[loc[2]:loc[3]], typeName(v))
		}
		word := fmt.Sprint(v)
		if shell {
			word = tasks.Quote(word)
		}
		b.WriteString(word)
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// lookup returns the value of the template at loc in s.
func (e *expander) lookup(s string, loc []int) (any, error) {
	name := s[loc[2]:loc[3]]
	if v, ok := e.vars[name]; ok {
		return v, nil
	}
	if loc[4] < 0 {
		return nil, fmt.Errorf("variable %s is not defined for host %s: define it in the "+
			"inventory or the playbook's defaults, or write {{ %s | default(VALUE) }}",
			name, e.host, name)
	}
	var v any
	if err := yaml.Unmarshal([]byte(s[loc[4]:loc[5]]), &v); err != nil {
		return nil, fmt.Errorf("invalid default for %s: %q is not a YAML value", name, s[loc[4]:loc[5]])
	}
	return v, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case int:
		return "integer"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}
