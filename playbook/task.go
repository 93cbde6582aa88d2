package playbook

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fleetharden/fleetharden/tasks"
)

// taskFields are the keys a task may hold besides its kind.
var taskFields = []string{"name", "notify", "when", "timeout"}

func parseTaskList(n *yaml.Node, handler bool, l *errorList) []*Task {
	what := "tasks"
	if handler {
		what = "handlers"
	}
	if n.Kind != yaml.SequenceNode {
		l.add(n, "%s must be a list of tasks", what)
		return nil
	}
	list := make([]*Task, 0, len(n.Content))
	for _, item := range n.Content {
		if t := parseTask(item, handler, l); t != nil {
			list = append(list, t)
		}
	}
	return list
}

func parseTask(n *yaml.Node, handler bool, l *errorList) *Task {
	if n.Kind != yaml.MappingNode {
		l.add(n, "a task must be a mapping with a name and one kind, such as `group: {name: docker}`")
		return nil
	}
	t := &Task{Pos: nodePos(l.file, n), handler: handler}
	var kindKey *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		switch key.Value {
		case "name":
			t.Name = scalarString(val, "name", l)
		case "notify":
			t.Notify = stringOrList(val, "notify", l)
		case "when":
			t.When = val
		case "timeout":
			t.Timeout = parseTimeout(val, l)
		default:
			kindKey = t.setKind(kindKey, key, val, l)
		}
	}

	if t.Name == "" {
		l.add(n, "task without a name: add `name:` so results can say which task they are about")
		t.Name = fmt.Sprintf("(task at line %d)", n.Line)
	}
	if kindKey == nil {
		l.add(n, "task %q has no kind: add one of %s", t.Name, strings.Join(tasks.Kinds(), ", "))
		return nil
	}
	if t.Kind != nil {
		t.checkArgs(l)
	}
	return t
}

// setKind records key as the task's kind. A task holds exactly one kind.
func (t *Task) setKind(prev, key, val *yaml.Node, l *errorList) *yaml.Node {
	if prev != nil {
		l.add(key, "task has two kinds, %q and %q: split it into two tasks", prev.Value, key.Value)
		return prev
	}
	kind, ok := tasks.Lookup(key.Value)
	if !ok {
		names := append(tasks.Kinds(), taskFields...)
		l.add(key, "unknown task kind or field %q%s", key.Value, suggest(key.Value, names))
		return key
	}
	t.Kind = kind
	t.argPos = val
	t.args = map[string]*yaml.Node{}
	switch {
	case val.Kind == yaml.MappingNode:
		// checkDuplicateKeys reports an argument given twice.
		for i := 0; i+1 < len(val.Content); i += 2 {
			t.args[val.Content[i].Value] = val.Content[i+1]
		}
	case val.Tag == "!!null":
	default:
		l.add(val, "arguments of %s must be a mapping of argument names to values", kind.Name)
	}
	return key
}

// checkArgs rejects unknown arguments and reports missing required ones.
func (t *Task) checkArgs(l *errorList) {
	var names []string
	for _, p := range t.Kind.Params {
		names = append(names, p.Name)
	}
	keys := make([]string, 0, len(t.args))
	for k := range t.args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	takes := "it takes " + strings.Join(names, ", ")
	if len(names) == 0 {
		takes = "it takes no arguments"
	}
	for _, k := range keys {
		if _, ok := t.Kind.Param(k); !ok {
			l.add(keyNode(t.argPos, k), "unknown argument %q for %s%s; %s",
				k, t.Kind.Name, suggest(k, names), takes)
		}
	}
	for _, p := range t.Kind.Params {
		if _, ok := t.args[p.Name]; p.Required && !ok {
			l.add(t.argPos, "%s needs the argument %q (%s)", t.Kind.Name, p.Name, p.Doc)
		}
	}
}

// keyNode returns the key node called name in mapping m, or m itself.
func keyNode(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return m.Content[i]
		}
	}
	return m
}

func scalarString(n *yaml.Node, field string, l *errorList) string {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		l.add(n, "%s must be a string", field)
		return ""
	}
	return n.Value
}

func stringOrList(n *yaml.Node, field string, l *errorList) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{scalarString(n, field, l)}
	}
	if n.Kind != yaml.SequenceNode {
		l.add(n, "%s must be a string or a list of strings", field)
		return nil
	}
	var out []string
	for _, item := range n.Content {
		out = append(out, scalarString(item, field, l))
	}
	return out
}

func parseTimeout(n *yaml.Node, l *errorList) time.Duration {
	d, err := toDuration(n)
	if err != nil || d <= 0 {
		l.add(n, "invalid timeout %q: use a positive duration such as 90s or 5m", n.Value)
		return 0
	}
	return d
}

// suggest returns ` (did you mean "x"?)` for the closest of names, or "".
func suggest(s string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(s, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance returns the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
