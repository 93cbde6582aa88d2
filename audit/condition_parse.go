package audit

import (
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// condition reads a condition: a test such as {path: P, equals: V}, or all, any or not
// of other conditions. It returns nil after recording a problem.
func (p *controlParser) condition(n *yaml.Node) condition {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.add(n, "a condition must be a mapping: {path: P, OPERATOR: VALUE}, {all: [...]}, "+
			"{any: [...]} or {not: CONDITION}")
		return nil
	}
	first := n.Content[0].Value
	if first == "all" || first == "any" || first == "not" {
		if len(n.Content) > 2 {
			p.add(n.Content[2], "%s must be alone in its mapping: nest other conditions "+
				"in it", first)
			return nil
		}
		return p.combined(first, n.Content[1])
	}
	return p.test(n)
}

// combined reads the value of all, any or not.
func (p *controlParser) combined(op string, n *yaml.Node) condition {
	if op == "not" {
		sub := p.condition(n)
		if sub == nil {
			return nil
		}
		return notOf{sub}
	}

	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(n, "%s must be a non-empty list of conditions", op)
		return nil
	}
	subs := make([]condition, 0, len(n.Content))
	for _, item := range n.Content {
		sub := p.condition(item)
		if sub == nil {
			return nil
		}
		subs = append(subs, sub)
	}
	if op == "all" {
		return allOf(subs)
	}
	return anyOf(subs)
}

// test reads {path: P, OPERATOR: VALUE}.
func (p *controlParser) test(n *yaml.Node) condition {
	t := &test{}
	var pathNode, opNode, valueNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		switch {
		case key.Value == "path":
			pathNode = value
		case !slices.Contains(testOps, key.Value):
			p.add(key, "unknown key %q in a condition: use path with one of %s, or all, "+
				"any or not", key.Value, strings.Join(testOps, ", "))
			return nil
		case opNode != nil:
			p.add(key, "a condition has one operator, but this one has %s and %s",
				opNode.Value, key.Value)
			return nil
		default:
			opNode, valueNode = key, value
		}
	}
	if pathNode == nil || opNode == nil {
		p.add(n, "a condition needs path and one of %s", strings.Join(testOps, ", "))
		return nil
	}

	path, ok := p.jsonPath(pathNode)
	if !ok {
		return nil
	}
	t.path, t.op = path, opNode.Value
	if !p.operand(t, valueNode) {
		return nil
	}
	return t
}

// operand reads the value of the test's operator and checks its type.
func (p *controlParser) operand(t *test, n *yaml.Node) bool {
	switch t.op {
	case "equals":
		return p.decode(n, &t.want)
	case "in":
		var list []any
		if n.Kind != yaml.SequenceNode || !p.decode(n, &list) {
			p.add(n, "in must be a list of values")
			return false
		}
		t.want = normalizeNumbers(list)
		return true
	case "matches":
		re, err := regexp.Compile(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			p.add(n, "matches must be a Go regular expression: %v", err)
			return false
		}
		t.re = re
		return true
	case "greater_than":
		return p.number(t, n)
	case "max_mode":
		mode, err := parseMode(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			p.add(n, "max_mode must be an octal mode such as \"0644\"")
			return false
		}
		t.mode = mode
		return true
	}
	// exists and empty
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.add(n, "%s must be true or false", t.op)
		return false
	}
	t.flag = n.Value == "true"
	return true
}

func (p *controlParser) number(t *test, n *yaml.Node) bool {
	var v any
	if !p.decode(n, &v) {
		return false
	}
	f, ok := toFloat(v)
	if !ok {
		p.add(n, "%s must be a number", t.op)
		return false
	}
	t.want = f
	return true
}

// decode decodes n into v, numbers made float64 when v is an *any.
func (p *controlParser) decode(n *yaml.Node, v any) bool {
	if err := n.Decode(v); err != nil {
		p.add(n, "invalid value: %v", err)
		return false
	}
	if ptr, ok := v.(*any); ok {
		*ptr = normalizeNumbers(*ptr)
	}
	return true
}
