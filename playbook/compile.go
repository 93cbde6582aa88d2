package playbook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fleetharden/fleetharden/tasks"
)

// Plan is a playbook compiled for one host: every argument expanded, checked and built.
type Plan struct {
	Steps    []Step
	Handlers []Step
}

// Step is one task of a plan.
type Step struct {
	Task *Task
	Run  tasks.Task // nil when Skip is set
	// Skip explains why the task does not run on this host, from its when condition.
	Skip string
}

// Tasks returns the tasks that the plan runs on its host, handlers included.
func (p *Plan) Tasks() []tasks.Task {
	var run []tasks.Task
	for _, steps := range [][]Step{p.Steps, p.Handlers} {
		for _, step := range steps {
			if step.Run != nil {
				run = append(run, step.Run)
			}
		}
	}
	return run
}

// Handler returns the handler step called name.
func (p *Plan) Handler(name string) (Step, bool) {
	for _, h := range p.Handlers {
		if h.Task.Name == name {
			return h, true
		}
	}
	return Step{}, false
}

// Compile expands the playbook for one host with its inventory variables, which take
// precedence over the playbook's defaults. The returned errors are *Error values that say
// which host they concern.
func (p *Playbook) Compile(host string, inventoryVars map[string]any) (*Plan, error) {
	vars := make(map[string]any, len(p.Defaults)+len(inventoryVars)+1)
	for k, v := range p.Defaults {
		vars[k] = v
	}
	for k, v := range inventoryVars {
		vars[k] = v
	}
	vars["inventory_hostname"] = host
	e := &expander{host: host, vars: vars}

	plan := &Plan{}
	var errs []error
	for _, t := range p.Tasks {
		s, err := t.compile(e)
		errs = append(errs, err)
		plan.Steps = append(plan.Steps, s)
	}
	for _, t := range p.Handlers {
		s, err := t.compile(e)
		errs = append(errs, err)
		plan.Handlers = append(plan.Handlers, s)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return plan, nil
}

func (t *Task) compile(e *expander) (Step, error) {
	step := Step{Task: t}
	if t.When != nil {
		run, err := e.condition(t.When)
		if err != nil {
			return step, t.errorAt(t.When, err)
		}
		if !run {
			step.Skip = "condition is false: " + t.When.Value
			return step, nil
		}
	}

	args := tasks.Args{}
	var errs []error
	for _, p := range t.Kind.Params {
		n, ok := t.args[p.Name]
		if !ok {
			if p.Default != nil {
				args[p.Name] = p.Default
			}
			continue
		}
		expand := e.value
		if p.Shell {
			expand = e.shellValue
		}
		v, err := expand(n)
		if err == nil {
			v, err = convert(v, p.Type)
		}
		if err != nil {
			if hasTemplate(n) {
				err = fmt.Errorf("%w (value from the variables of host %s)", err, e.host)
			}
			errs = append(errs, t.errorAt(n, fmt.Errorf("%s: %w", p.Name, err)))
			continue
		}
		args[p.Name] = v
	}
	if len(errs) > 0 {
		return step, errors.Join(errs...)
	}

	run, err := t.Kind.New(args)
	if err != nil {
		return step, t.errorAt(t.argPos, err)
	}
	step.Run = run
	return step, nil
}

func (t *Task) errorAt(n *yaml.Node, err error) error {
	return &Error{Pos: Position{File: t.Pos.File, Line: n.Line, Column: n.Column},
		Msg: fmt.Sprintf("task %q: %v", t.Name, err)}
}

// condition evaluates a when value: a boolean, a variable name, a template, or either of the
// last two after "not".
func (e *expander) condition(n *yaml.Node) (bool, error) {
	if n.Kind != yaml.ScalarNode {
		return false, fmt.Errorf("when must be a boolean, a variable name or a template")
	}
	if n.Tag == "!!bool" {
		return n.Value == "true", nil
	}
	expr := strings.TrimSpace(n.Value)
	negate := false
	if rest, ok := strings.CutPrefix(expr, "not "); ok {
		negate, expr = true, strings.TrimSpace(rest)
	}
	if identRE.MatchString(expr) {
		expr = "{{ " + expr + " }}"
	}
	v, err := e.expandString(expr)
	if err != nil {
		return false, err
	}
	b, err := convert(v, tasks.TypeBool)
	if err != nil {
		return false, fmt.Errorf("when %q: %w", n.Value, err)
	}
	return b.(bool) != negate, nil
}

// convert checks v against a parameter type and returns it in the type tasks.Args promises.
func convert(v any, typ tasks.Type) (any, error) {
	switch typ {
	case tasks.TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case tasks.TypeInt:
		if n, ok := v.(int); ok {
			return n, nil
		}
	case tasks.TypeBool:
		return toBool(v)
	case tasks.TypeDuration:
		return durationValue(v)
	case tasks.TypeStringList:
		return stringList(v)
	case tasks.TypeMap:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
	case tasks.TypeList:
		if l, ok := v.([]any); ok {
			return l, nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("expected %s, got %s %s", withArticle(string(typ)), typeName(v), short(v))
}

func toBool(v any) (any, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(b) {
		case "true", "yes", "on":
			return true, nil
		case "false", "no", "off", "":
			return false, nil
		}
	}
	return nil, fmt.Errorf("expected a boolean, got %s %s", typeName(v), short(v))
}

func stringList(v any) (any, error) {
	if v == nil {
		return []string{}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of strings, got %s %s", typeName(v), short(v))
	}
	out := make([]string, 0, len(l))
	for i, item := range l {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("item %d: expected a string, got %s %s", i+1, typeName(item), short(item))
		}
		out = append(out, s)
	}
	return out, nil
}

func durationValue(v any) (any, error) {
	switch d := v.(type) {
	case int:
		return time.Duration(d) * time.Second, nil
	case string:
		if n, err := strconv.Atoi(d); err == nil {
			return time.Duration(n) * time.Second, nil
		}
		if p, err := time.ParseDuration(d); err == nil {
			return p, nil
		}
	}
	return nil, fmt.Errorf("expected a duration such as 90s or 5m, got %s %s", typeName(v), short(v))
}

func toDuration(n *yaml.Node) (time.Duration, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return 0, err
	}
	d, err := durationValue(v)
	if err != nil {
		return 0, err
	}
	return d.(time.Duration), nil
}

func withArticle(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// short renders v for an error message, cut to a readable length.
func short(v any) string {
	s := fmt.Sprintf("%q", fmt.Sprint(v))
	if len(s) > 60 {
		s = s[:57] + "...\""
	}
	return s
}
