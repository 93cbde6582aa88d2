package inventory

import (
	"math"
	"regexp"

	"gopkg.in/yaml.v3"
)

// variableNamePattern matches valid variable names. Playbooks refer to variables by these
// names, so they follow the identifier rule of Ansible and most template languages.
var variableNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// variable is a variable value and the place that set it.
type variable struct {
	value any
	pos   Position
}

// variables maps variable names to values, keeping where each was set.
type variables map[string]variable

// checkVariableName records an error and returns false if name is not a valid variable
// name.
func (d *document) checkVariableName(p pair) bool {
	if variableNamePattern.MatchString(p.name) {
		return true
	}

	d.addError(d.pos(p.key), p.name, "invalid variable name %q: use letters, digits and "+
		"underscores, not starting with a digit", p.name)

	return false
}

// plainValue converts n to the Go types of Host.Vars: nil, string, int, float64, bool,
// []any and map[string]any. Timestamps stay strings, and Ansible's !unsafe tag is read as a
// plain string. For a value it cannot convert, it records an error in which label names
// the value, and returns false. Such values are Ansible Vault values, unknown tags and
// explicit tags that do not fit the value, such as !!int on a number of 20 digits.
func (d *document) plainValue(n *yaml.Node, label string) (any, bool) {
	n = resolve(n)

	switch n.Kind {
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		ok := true
		for _, item := range n.Content {
			value, itemOK := d.plainValue(item, label)
			list = append(list, value)
			ok = ok && itemOK
		}
		return list, ok
	case yaml.MappingNode:
		table := make(map[string]any)
		ok := true
		for _, p := range entries(n) {
			value, itemOK := d.plainValue(p.value, label)
			table[p.key.Value] = value
			ok = ok && itemOK
		}
		return table, ok
	default:
		return d.plainScalar(n, label)
	}
}

func (d *document) plainScalar(n *yaml.Node, label string) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!str", "!!timestamp", "!unsafe":
		return n.Value, true

	case "!!bool":
		var b bool
		return b, d.decodeScalar(n, &b, label, "boolean")
	case "!!int":
		var i int
		return i, d.decodeScalar(n, &i, label, "64-bit integer")
	case "!!float":
		var f float64
		if !d.decodeScalar(n, &f, label, "number") {
			return nil, false
		}
		// JSON, which results and `inventory --json` are written in, has no infinity or NaN.
		if math.IsInf(f, 0) || math.IsNaN(f) {
			d.addError(d.pos(n), n.Value, "%s: %s is not a finite number; quote it to keep "+
				"it as a string", label, n.Value)
			return nil, false
		}
		return f, true
	case "!!binary":
		var s string
		return s, d.decodeScalar(n, &s, label, "base64 binary value")

	case "!vault":
		d.addError(d.pos(n), "", "%s is encrypted with Ansible Vault, which fleetharden "+
			"cannot decrypt; write the value in plain text", label)
		return nil, false
	default:
		d.addError(d.pos(n), n.Tag, "%s has the unsupported YAML tag %s; remove the tag",
			label, n.Tag)
		return nil, false
	}
}

// decodeScalar decodes n into target, or records an error that calls the value an invalid
// kind. Only an explicit tag such as !!int can make decoding fail, because yaml.v3 resolves
// an untagged scalar to a type that can hold it.
func (d *document) decodeScalar(n *yaml.Node, target any, label, kind string) bool {
	if err := n.Decode(target); err != nil {
		d.addError(d.pos(n), n.Value, "%s: invalid %s %q; remove the %s tag to keep it as a "+
			"string", label, kind, n.Value, n.Tag)
		return false
	}

	return true
}
