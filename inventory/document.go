package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// document is one inventory file being read: its YAML tree and the problems found so far.
type document struct {
	problems
	root *yaml.Node // top-level mapping with aliases resolved, nil if unreadable
}

// pair is one key and value of a YAML mapping, with aliases resolved.
type pair struct {
	name  string // key text, empty for a null key
	key   *yaml.Node
	value *yaml.Node
}

// parseYAML parses data as a single YAML document whose top level is a mapping. It
// records what it finds wrong in d and leaves d.root nil if the tree cannot be read.
func (d *document) parseYAML(data []byte) {
	root, ok := d.decode(data)
	if !ok {
		return
	}
	if !checkTree(d, root) {
		return
	}

	root = resolve(root)
	if root.Kind != yaml.MappingNode {
		d.addError(d.pos(root), root.Value,
			"the top level of an inventory must be a mapping with keys such as groups, hosts "+
				"or all, got %s", describe(root))
		return
	}
	d.root = root
}

// decode parses the first YAML document of data and rejects empty input, syntax errors and
// a second document.
func (d *document) decode(data []byte) (*yaml.Node, bool) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))

	var doc yaml.Node
	err := decodeSafely(decoder, &doc)
	if errors.Is(err, io.EOF) || (err == nil && isEmptyDocument(&doc)) {
		d.addError(Position{File: d.file}, "",
			"inventory is empty; list at least one host (see inventory.example.yaml)")
		return nil, false
	}
	if err != nil {
		d.addSyntaxError(data, err)
		return nil, false
	}

	var next yaml.Node
	err = decodeSafely(decoder, &next)
	if err != nil && !errors.Is(err, io.EOF) {
		d.addSyntaxError(data, err)
		return nil, false
	}
	if err == nil && !isEmptyDocument(&next) {
		d.addError(d.pos(next.Content[0]), "",
			"a second YAML document starts here; an inventory must be a single document, "+
				"so remove the '---' separator or split the file")
		return nil, false
	}

	return doc.Content[0], true
}

// decodeSafely runs decoder.Decode and turns a panic inside yaml.v3 into an error, so that
// a parser bug cannot crash the program on a malformed file.
func decodeSafely(decoder *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: internal parser error: %v", r)
		}
	}()

	return decoder.Decode(doc)
}

func isEmptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	top := doc.Content[0]

	return top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null"
}

func (d *document) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Column: n.Column}
}

// resolve follows aliases to the node they refer to.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}

	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// maxQuotedLength is the maximum number of bytes of a value that describe quotes.
const maxQuotedLength = 80

// describe names the kind of a node for error messages. It quotes scalars, shortening long
// ones.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "an empty value"
	case len(n.Value) > maxQuotedLength:
		return strconv.Quote(strings.ToValidUTF8(n.Value[:maxQuotedLength], "")) + "..."
	default:
		return strconv.Quote(n.Value)
	}
}

// entries returns the pairs of mapping n with aliases resolved and merge keys (<<) applied.
// Explicit keys come first, in file order, then the merged keys that n does not set itself.
// Of two merged mappings the first listed wins, as the YAML merge key type specifies. A
// repeated key keeps its first value, and checkTree reports the repeat.
func entries(n *yaml.Node) []pair {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}

	var explicit, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := resolve(n.Content[i]), resolve(n.Content[i+1])
		switch {
		case key.Kind != yaml.ScalarNode:
			// checkTree reports keys that are not scalars.
			continue
		case key.ShortTag() == "!!merge":
			merged = append(merged, mergeSources(value)...)
			continue
		}
		explicit = append(explicit, pair{name: keyName(key), key: key, value: value})
	}

	return appendNew(appendNew(nil, explicit), merged)
}

// mergeSources returns the pairs that a merge key's value brings in: one mapping or a list
// of mappings, the earlier ones first.
func mergeSources(value *yaml.Node) []pair {
	if value.Kind == yaml.MappingNode {
		return entries(value)
	}

	var merged []pair
	for _, item := range value.Content {
		merged = append(merged, entries(item)...)
	}

	return merged
}

// appendNew appends the pairs of add whose names are not in list yet.
func appendNew(list, add []pair) []pair {
	seen := make(map[string]bool, len(list)+len(add))
	for _, p := range list {
		seen[p.name] = true
	}

	for _, p := range add {
		if !seen[p.name] {
			seen[p.name] = true
			list = append(list, p)
		}
	}

	return list
}

func keyName(key *yaml.Node) string {
	if key.Kind != yaml.ScalarNode || key.ShortTag() == "!!null" {
		return ""
	}

	return key.Value
}

// scalarText returns the text of scalar n. If n is not a scalar or is empty, it records an
// error in which label names the value, and returns false.
func (d *document) scalarText(n *yaml.Node, label string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.addError(d.pos(n), n.Value, "%s must be a string, got %s", label, describe(n))
		return "", false
	}
	if n.Tag == "!vault" {
		d.addError(d.pos(n), "", "%s is encrypted with Ansible Vault, which fleetharden "+
			"cannot decrypt; write the value in plain text", label)
		return "", false
	}

	return n.Value, true
}

// mapping returns the pairs of n, or none if n is null. If n is neither a mapping nor null,
// it records an error in which label names the value and expected describes its keys and
// values.
func (d *document) mapping(n *yaml.Node, label, expected string) []pair {
	n = resolve(n)
	if n.Kind != yaml.MappingNode && !isNull(n) {
		d.addError(d.pos(n), n.Value, "%s must be a mapping of %s, got %s",
			label, expected, describe(n))
	}

	return entries(n)
}

// unknownKey records an error for a key that is not one of valid, suggesting the nearest
// valid key.
func (d *document) unknownKey(p pair, where string, valid []string, hint string) {
	msg := fmt.Sprintf("unknown key %q in %s", p.name, where)
	if near := closest(p.name, valid); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	msg += "; valid keys are " + strings.Join(valid, ", ")
	if hint != "" {
		msg += "; " + hint
	}

	d.addError(d.pos(p.key), p.name, "%s", msg)
}
