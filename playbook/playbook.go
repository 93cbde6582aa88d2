// Package playbook reads playbooks: named lists of tasks and handlers, each of one kind with
// its arguments. It checks everything that can be checked before a host is contacted and
// expands inventory variables into each host's own plan.
package playbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fleetharden/fleetharden/internal/inputfile"
	"github.com/fleetharden/fleetharden/tasks"
)

// Playbook is a parsed and statically checked playbook.
type Playbook struct {
	File     string
	Name     string
	Defaults map[string]any // variable values used when the inventory gives none
	Tasks    []*Task
	Handlers []*Task
}

// Task is one entry of a playbook's tasks or handlers, before variables are expanded.
type Task struct {
	Name    string
	Kind    *tasks.Kind
	Notify  []string
	When    *yaml.Node    // nil when the task always runs
	Timeout time.Duration // 0 means the run's default
	Pos     Position

	args    map[string]*yaml.Node
	argPos  *yaml.Node
	handler bool
}

// IsHandler reports whether the task is a handler, run only when notified.
func (t *Task) IsHandler() bool { return t.handler }

// Load reads and checks the playbook at path.
func Load(path string) (*Playbook, error) {
	data, err := inputfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("read playbook: %w", err)
	}
	return Parse(path, data)
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads and checks a playbook held in data; file names it in errors.
func Parse(file string, data []byte) (*Playbook, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, &Error{Pos: Position{File: file, Line: 1, Column: 1}, Msg: "the playbook " +
			"is empty: write a mapping with name and tasks, as fleetharden playbook show prints"}
	} else if err != nil {
		return nil, yamlError(file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{Pos: nodePos(file, &doc), Msg: "a playbook is a mapping " +
			"with name, tasks and optionally defaults and handlers"}
	}

	p := &Playbook{File: file, Defaults: map[string]any{}}
	l := &errorList{file: file}
	checkDuplicateKeys(doc.Content[0], l)
	p.parseTop(doc.Content[0], l)
	p.checkNames(l)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return p, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into an Error that names the file and line.
func yamlError(file string, err error) error {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: invalid YAML: %w", file, err)
	}
	var line int
	fmt.Sscan(m[1], &line)
	return &Error{Pos: Position{File: file, Line: line, Column: 1}, Msg: "invalid YAML: " + m[2]}
}

// checkDuplicateKeys records every key that appears twice in one mapping of the document.
// yaml.v3 keeps the last value of a repeated key, so a second tasks list or when field
// would otherwise replace the first without a word. Aliases are checked where their
// anchor is.
func checkDuplicateKeys(n *yaml.Node, l *errorList) {
	if n.Kind == yaml.MappingNode {
		first := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			if key.Kind != yaml.ScalarNode || key.Tag == "!!merge" {
				continue
			}
			if earlier, dup := first[key.Value]; dup {
				l.add(key, "duplicate key %q: it is already set at line %d, column %d; "+
					"remove or rename one of them", key.Value, earlier.Line, earlier.Column)
				continue
			}
			first[key.Value] = key
		}
	}
	if n.Kind == yaml.AliasNode {
		return
	}
	for _, child := range n.Content {
		checkDuplicateKeys(child, l)
	}
}

func (p *Playbook) parseTop(root *yaml.Node, l *errorList) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		switch key.Value {
		case "name":
			p.Name = scalarString(val, "name", l)
		case "defaults":
			p.parseDefaults(val, l)
		case "tasks":
			p.Tasks = parseTaskList(val, false, l)
		case "handlers":
			p.Handlers = parseTaskList(val, true, l)
		default:
			l.add(key, "unknown playbook field %q%s: use name, defaults, tasks or handlers",
				key.Value, suggest(key.Value, []string{"name", "defaults", "tasks", "handlers"}))
		}
	}
	if p.Name == "" {
		l.add(root, "missing playbook name: add a top-level name field")
	}
	if p.Tasks == nil {
		l.add(root, "missing tasks: add a top-level tasks list")
	} else if len(p.Tasks) == 0 {
		l.add(root, "the tasks list is empty: add at least one task")
	}
}

func (p *Playbook) parseDefaults(n *yaml.Node, l *errorList) {
	if n.Kind != yaml.MappingNode {
		l.add(n, "defaults must be a mapping of variable names to values")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !identRE.MatchString(key.Value) {
			l.add(key, "invalid variable name %q: use letters, digits and _", key.Value)
			continue
		}
		var v any
		if err := val.Decode(&v); err != nil {
			l.add(val, "invalid value for %s: %v", key.Value, err)
			continue
		}
		p.Defaults[key.Value] = v
	}
}

// checkNames rejects duplicate task and handler names and notifications of unknown handlers.
func (p *Playbook) checkNames(l *errorList) {
	seen := map[string]bool{}
	for _, t := range p.Tasks {
		if seen[t.Name] {
			l.errs = append(l.errs, &Error{Pos: t.Pos, Msg: fmt.Sprintf(
				"duplicate task name %q: give each task a unique name", t.Name)})
		}
		seen[t.Name] = true
	}

	handlers := map[string]bool{}
	var names []string
	for _, h := range p.Handlers {
		if handlers[h.Name] {
			l.errs = append(l.errs, &Error{Pos: h.Pos, Msg: fmt.Sprintf(
				"duplicate handler name %q: give each handler a unique name", h.Name)})
		}
		handlers[h.Name] = true
		names = append(names, h.Name)
	}

	for _, t := range append(append([]*Task{}, p.Tasks...), p.Handlers...) {
		for _, n := range t.Notify {
			if !handlers[n] {
				l.errs = append(l.errs, &Error{Pos: t.Pos, Msg: fmt.Sprintf(
					"task %q notifies unknown handler %q%s", t.Name, n, suggest(n, names))})
			}
		}
	}
}

// Handler returns the handler called name.
func (p *Playbook) Handler(name string) *Task {
	for _, h := range p.Handlers {
		if h.Name == name {
			return h
		}
	}
	return nil
}
