package audit

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vmware-labs/yaml-jsonpath/pkg/yamlpath"
	"gopkg.in/yaml.v3"
)

// condition is a test over the state of a host, as the expect and applies_if fields of
// a control write it.
type condition interface {
	// satisfied reports whether the condition is true of the state at root.
	satisfied(root *yaml.Node) bool
	// jsonPaths returns the JSONPath expressions that the condition reads.
	jsonPaths() []jsonPath
}

// jsonPath is a compiled JSONPath expression with its text.
type jsonPath struct {
	text string
	path *yamlpath.Path
	// multi is whether the expression selects a set of nodes, with a filter, a wildcard
	// or a recursive descent, so that finding none is an empty list rather than null.
	multi bool
}

// newJSONPath compiles a JSONPath expression.
func newJSONPath(text string) (jsonPath, error) {
	compiled, err := yamlpath.NewPath(text)
	if err != nil {
		return jsonPath{}, err
	}
	multi := strings.ContainsAny(text, "?*") || strings.Contains(text, "..")
	return jsonPath{text: text, path: compiled, multi: multi}, nil
}

// find returns the values of the nodes the path finds, decoded, with every number as a
// float64.
func (p jsonPath) find(root *yaml.Node) []any {
	nodes, err := p.path.Find(root)
	if err != nil {
		return nil
	}
	values := make([]any, 0, len(nodes))
	for _, n := range nodes {
		var v any
		if err := n.Decode(&v); err == nil {
			values = append(values, normalizeNumbers(v))
		}
	}
	return values
}

// test is a condition on the values that one path finds.
type test struct {
	path jsonPath
	op   string
	want any            // equals: the value; in: the list; greater_than: a float64
	re   *regexp.Regexp // matches
	mode uint32         // max_mode: the allowed permission bits
	flag bool           // exists and empty
}

// testOps are the operators of a test, in the order that messages list them.
var testOps = []string{"equals", "in", "matches", "greater_than", "max_mode", "exists", "empty"}

// satisfied applies the test's operator. Except for exists and empty, the test is
// satisfied only when each value found passes. A path that selects a set, such as
// $.list[*], may find none, but any other path must find a value.
func (t *test) satisfied(root *yaml.Node) bool {
	values := t.path.find(root)
	switch t.op {
	case "exists":
		return anyNonNull(values) == t.flag
	case "empty":
		return allEmpty(values) == t.flag
	}
	if len(values) == 0 {
		return t.path.multi
	}
	for _, v := range values {
		if !t.passes(v) {
			return false
		}
	}
	return true
}

// passes applies the operator to one value.
func (t *test) passes(v any) bool {
	switch t.op {
	case "equals":
		return reflect.DeepEqual(v, t.want)
	case "in":
		for _, w := range t.want.([]any) {
			if reflect.DeepEqual(v, w) {
				return true
			}
		}
		return false
	case "matches":
		s, ok := v.(string)
		return ok && t.re.MatchString(s)
	case "greater_than":
		f, ok := v.(float64)
		return ok && f > t.want.(float64)
	case "max_mode":
		mode, err := parseMode(fmt.Sprint(v))
		return err == nil && mode&^t.mode == 0
	}
	return false
}

func (t *test) jsonPaths() []jsonPath { return []jsonPath{t.path} }

// allOf is satisfied when every one of its conditions is.
type allOf []condition

func (c allOf) satisfied(root *yaml.Node) bool {
	for _, sub := range c {
		if !sub.satisfied(root) {
			return false
		}
	}
	return true
}

func (c allOf) jsonPaths() []jsonPath { return subPaths(c) }

// anyOf is satisfied when at least one of its conditions is.
type anyOf []condition

func (c anyOf) satisfied(root *yaml.Node) bool {
	for _, sub := range c {
		if sub.satisfied(root) {
			return true
		}
	}
	return false
}

func (c anyOf) jsonPaths() []jsonPath { return subPaths(c) }

// notOf is satisfied when its condition is not.
type notOf struct{ condition }

func (c notOf) satisfied(root *yaml.Node) bool { return !c.condition.satisfied(root) }

// subPaths returns the paths of every condition, each once.
func subPaths(conds []condition) []jsonPath {
	var paths []jsonPath
	for _, c := range conds {
		for _, p := range c.jsonPaths() {
			if !slices.ContainsFunc(paths, func(q jsonPath) bool { return q.text == p.text }) {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

func anyNonNull(values []any) bool {
	for _, v := range values {
		if v != nil {
			return true
		}
	}
	return false
}

// allEmpty reports whether every value is null, "", [] or {}, which is true of no values.
func allEmpty(values []any) bool {
	for _, v := range values {
		switch x := v.(type) {
		case nil:
		case string:
			if x != "" {
				return false
			}
		case []any:
			if len(x) > 0 {
				return false
			}
		case map[string]any:
			if len(x) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// normalizeNumbers returns v with every integer made a float64, so that 1 and 1.0
// compare equal whether they come from the state or from a control.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = normalizeNumbers(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = normalizeNumbers(item)
		}
		return out
	}
	return v
}

// parseMode reads an octal permission mode such as "0644", "644" or "0o644".
func parseMode(s string) (uint32, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0o"), "0O")
	mode, err := strconv.ParseUint(s, 8, 32)
	if err != nil || mode > 0o7777 {
		return 0, fmt.Errorf("invalid mode %q: write it in octal, such as \"0644\"", s)
	}
	return uint32(mode), nil
}

// toFloat returns a YAML number as a float64.
func toFloat(v any) (float64, bool) {
	switch x := normalizeNumbers(v).(type) {
	case float64:
		return x, !math.IsNaN(x)
	}
	return 0, false
}
