package playbook

import (
	"errors"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/playbooks"
)

// fuzzVars are inventory variables of every type, including text that a shell would run,
// so Compile expands templates of each kind.
var fuzzVars = map[string]any{
	"docker_users":   []any{"alice", "bob"},
	"docker_upgrade": true,
	"marker":         "x; touch /tmp/fleetharden-injected",
	"count":          3,
	"settings":       map[string]any{"debug": true},
	"nothing":        nil,
}

// FuzzParse checks that Parse and Compile never panic or hang, and return either a
// playbook and plans that keep their invariants or only positioned *Error values. The seed
// corpus is the built-in playbook, the inputs below and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(playbooks.DockerHardening)
	f.Add([]byte(goodPlaybook))
	for _, seed := range []string{
		"name: a\ntasks: []",
		"name: a\ntasks:\n  - name: t\n    command: {cmd: \"echo {{ marker }}\"}",
		"name: a\ntasks:\n  - name: t\n    when: not docker_upgrade\n    group: {name: \"{{ marker }}\"}",
		"name: a\ndefaults: {x: &x [1, *x]}\ntasks: []",
		"name: a\ntasks:\n  - &t {name: t, command: {cmd: id}}\n  - *t",
		"name: a\ntasks:\n  - name: t\n" +
			"    docker_daemon_config: {path: \"{{ settings }}\", settings: {}}",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkParseErrors(t, p, err)
			return
		}
		checkPlaybook(t, p)
		for _, vars := range []map[string]any{fuzzVars, nil} {
			plan, err := p.Compile("host1", vars)
			if err != nil {
				checkCompileErrors(t, plan, err)
				continue
			}
			checkPlan(t, p, plan)
		}
	})
}

func checkParseErrors(t *testing.T, p *Playbook, err error) {
	t.Helper()
	if p != nil {
		t.Errorf("Parse returned a playbook and an error")
	}
	var yamlErr *Error
	if len(leafErrors(err)) == 1 && !errors.As(err, &yamlErr) {
		// A YAML syntax error without a line number names the file in its text.
		if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
			t.Errorf("error %q does not name the file", err)
		}
		return
	}
	checkPositioned(t, err)
}

func checkCompileErrors(t *testing.T, plan *Plan, err error) {
	t.Helper()
	if plan != nil {
		t.Errorf("Compile returned a plan and an error")
	}
	checkPositioned(t, err)
}

// checkPositioned checks that every error joined in err is an *Error in the fuzzed file.
func checkPositioned(t *testing.T, err error) {
	t.Helper()
	for _, e := range leafErrors(err) {
		var pe *Error
		if !errors.As(e, &pe) {
			t.Fatalf("error %q (%T) is not an *Error", e, e)
		}
		if pe.Pos.File != "fuzz.yaml" || pe.Pos.Line < 0 || pe.Pos.Column < 0 {
			t.Errorf("error %q has position %+v", e, pe.Pos)
		}
		if pe.Msg == "" {
			t.Errorf("error at %v has an empty message", pe.Pos)
		}
	}
}

// leafErrors flattens errors joined with errors.Join.
func leafErrors(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var list []error
	for _, e := range joined.Unwrap() {
		list = append(list, leafErrors(e)...)
	}
	return list
}

func checkPlaybook(t *testing.T, p *Playbook) {
	t.Helper()
	if p.Name == "" {
		t.Errorf("playbook without a name was accepted")
	}
	if p.Tasks == nil {
		t.Errorf("playbook without tasks was accepted")
	}
	seen := map[string]bool{}
	for _, task := range p.Tasks {
		if task.Kind == nil {
			t.Fatalf("task %q has no kind", task.Name)
		}
		if seen[task.Name] {
			t.Errorf("duplicate task name %q was accepted", task.Name)
		}
		seen[task.Name] = true
		for _, n := range task.Notify {
			if p.Handler(n) == nil {
				t.Errorf("task %q notifies unknown handler %q", task.Name, n)
			}
		}
	}
	for _, h := range p.Handlers {
		if h.Kind == nil || !h.IsHandler() {
			t.Fatalf("handler %q has no kind or is not marked a handler", h.Name)
		}
	}
}

func checkPlan(t *testing.T, p *Playbook, plan *Plan) {
	t.Helper()
	if len(plan.Steps) != len(p.Tasks) || len(plan.Handlers) != len(p.Handlers) {
		t.Fatalf("plan has %d steps and %d handlers, want %d and %d",
			len(plan.Steps), len(plan.Handlers), len(p.Tasks), len(p.Handlers))
	}
	for _, step := range append(append([]Step{}, plan.Steps...), plan.Handlers...) {
		if (step.Run == nil) == (step.Skip == "") {
			t.Errorf("step %q has Run %v and Skip %q, want exactly one",
				step.Task.Name, step.Run != nil, step.Skip)
		}
	}
}
