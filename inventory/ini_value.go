package inventory

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// iniText is a piece of an INI line with the place of each of its bytes, so that errors
// point into the line even after quotes were removed.
type iniText struct {
	text    string
	line    int
	start   int   // column where t starts, at the quote that starts a word if one was removed
	columns []int // column of each byte of text, then the column just after it
}

// slice returns the part of t from byte offset start to the end.
func (t iniText) slice(start int) iniText {
	return iniText{text: t.text[start:], line: t.line, start: t.columns[start],
		columns: t.columns[start:]}
}

// position returns the place of the byte at offset in t.
func (t iniText) position(file string, offset int) Position {
	return Position{File: file, Line: t.line, Column: t.columns[offset]}
}

// startPosition returns the place where t starts.
func (t iniText) startPosition(file string) Position {
	return Position{File: file, Line: t.line, Column: t.start}
}

// stringNode returns a YAML string node for value, placed at the start of t.
func (t iniText) stringNode(value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: t.line,
		Column: t.start}
}

// iniValue reads value, the value of the INI variable name, as Ansible 2.14 does: as a
// Python literal if it is one, else as the text itself. It returns a yaml.Node with the
// YAML tag of the value's type, so that the YAML reader's checks apply to it. For a literal
// that Host.Vars cannot hold, it records an error and returns false. onHostLine reports
// whether the value is on a host line, where it needs other quotes.
func (d *document) iniValue(name string, value iniText, onHostLine bool) (*yaml.Node, bool) {
	parsed, problem, ok := parseLiteral(value.text)
	if !ok {
		if strings.ContainsAny(value.text[:min(1, len(value.text))], "[{(") {
			d.warnOnce("literal "+value.position(d.file, 0).String(),
				value.position(d.file, 0), "the value of %s is not a valid Python literal, "+
					"so it is read as the string %s; %s", name, strconv.Quote(value.text),
				literalAdvice(onHostLine))
		}
		return value.stringNode(value.text), true
	}

	n := value.literalNode(parsed, &problem)
	if problem != nil {
		d.addError(value.position(d.file, problem.offset), value.text,
			"invalid value of %s: %s", name, problem.msg)
		return nil, false
	}

	return n, true
}

// literalAdvice returns how to write a list of strings in an INI value.
func literalAdvice(onHostLine bool) string {
	if onHostLine {
		return `quote the items and the whole value, as in docker_users='["alice", "bob"]'`
	}

	return `quote the items, as in docker_users = ["alice", "bob"]`
}

// literalNode converts l to the yaml.Node that the YAML reader builds for the same value.
// It sets *problem for the first part that Host.Vars cannot hold, unless it is set.
func (t iniText) literalNode(l literal, problem **textProblem) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Line: t.line, Column: t.columns[l.offset]}
	fail := func(format string, args ...any) {
		if *problem == nil {
			*problem = &textProblem{offset: l.offset, msg: fmt.Sprintf(format, args...)}
		}
	}

	switch l.kind {
	case kindString:
		n.Tag, n.Value = "!!str", l.text
	case kindInt:
		n.Tag, n.Value = "!!int", l.integer.String()
		if !l.integer.IsInt64() {
			fail("the integer %s is outside the 64-bit range; %s", n.Value, quoteAdvice)
		}
	case kindFloat:
		n.Tag, n.Value = "!!float", formatFloat(l.float)
		if math.IsInf(l.float, 0) {
			fail("the number is too large for a 64-bit float and reads as infinity; %s",
				quoteAdvice)
		}
	case kindBool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(l.boolean)
	case kindNone:
		n.Tag, n.Value = "!!null", "None"
	case kindList, kindTuple:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		for _, item := range l.items {
			n.Content = append(n.Content, t.literalNode(item, problem))
		}
	case kindDict:
		t.fillMapping(n, l, problem)
	case kindBytes:
		fail("Python reads it as bytes, which fleetharden does not support; %s", quoteAdvice)
	case kindComplex:
		fail("Python reads it as a complex number, which fleetharden does not support; %s",
			quoteAdvice)
	case kindSet:
		fail("Python reads it as a set, which fleetharden does not support; write a list " +
			"in [] instead")
	}

	return n
}

// quoteAdvice is the fix for a value that Python reads as an unsupported literal.
const quoteAdvice = "write it in quotes to keep it as a string"

// fillMapping turns n into the mapping of dict l. As in Python, a repeated key keeps its
// first place and its last value.
func (t iniText) fillMapping(n *yaml.Node, l literal, problem **textProblem) {
	n.Kind, n.Tag = yaml.MappingNode, "!!map"
	index := make(map[string]int)

	for i, key := range l.keys {
		keyNode := t.literalNode(key, problem)
		if key.kind != kindString && key.kind != kindInt {
			if *problem == nil {
				*problem = &textProblem{offset: key.offset, msg: "a dict key must be a " +
					"string or an integer, because the keys of variable mappings are strings"}
			}
			continue
		}
		keyNode.Tag = "!!str"
		value := t.literalNode(l.items[i], problem)

		if at, ok := index[keyNode.Value]; ok {
			n.Content[at+1] = value
			continue
		}
		index[keyNode.Value] = len(n.Content)
		n.Content = append(n.Content, keyNode, value)
	}
}

// formatFloat writes f as YAML does, so that yaml.v3 decodes it to f again.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	default:
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
}
