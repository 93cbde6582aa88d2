package playbook

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
)

// echoTask is a task kind for tests: it keeps its arguments for the test to inspect.
type echoTask struct{ args tasks.Args }

func (e *echoTask) Run(ctx context.Context, env *tasks.Env) tasks.Outcome {
	return tasks.OK("ran")
}

func init() {
	tasks.Register(&tasks.Kind{
		Name: "test_echo",
		Params: []tasks.Param{
			{Name: "name", Type: tasks.TypeString, Required: true, Doc: "a name"},
			{Name: "users", Type: tasks.TypeStringList, Default: []string{}},
			{Name: "count", Type: tasks.TypeInt},
			{Name: "wait", Type: tasks.TypeDuration, Default: time.Second},
			{Name: "on", Type: tasks.TypeBool},
			{Name: "settings", Type: tasks.TypeMap},
		},
		New: func(args tasks.Args) (tasks.Task, error) {
			if args.String("name") == "bad" {
				return nil, errors.New("name must not be bad")
			}
			return &echoTask{args: args}, nil
		},
	})
}

const goodPlaybook = `name: test
defaults:
  who: [alice]
tasks:
  - name: first
    test_echo:
      name: "{{ inventory_hostname }}-x"
      users: "{{ who }}"
      wait: 2m
    notify: h1
  - name: second
    when: not skip_it
    test_echo: {name: b, count: 3}
handlers:
  - name: h1
    test_echo: {name: h}
`

func TestParseAndCompile(t *testing.T) {
	pb, err := Parse("pb.yaml", []byte(goodPlaybook))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	plan, err := pb.Compile("web1", map[string]any{"who": []any{"bob", "carol"}, "skip_it": true})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if len(plan.Steps) != 2 || len(plan.Handlers) != 1 {
		t.Fatalf("got %d steps and %d handlers, want 2 and 1", len(plan.Steps), len(plan.Handlers))
	}
	args := plan.Steps[0].Run.(*echoTask).args
	if got := args.String("name"); got != "web1-x" {
		t.Errorf("name = %q, want web1-x", got)
	}
	if got := strings.Join(args.Strings("users"), ","); got != "bob,carol" {
		t.Errorf("users = %q, want the inventory's bob,carol over the default", got)
	}
	if got := args.Duration("wait"); got != 2*time.Minute {
		t.Errorf("wait = %v, want 2m", got)
	}
	if plan.Steps[1].Skip == "" {
		t.Errorf("second step runs, want it skipped by its when condition")
	}
	if _, ok := plan.Handler("h1"); !ok {
		t.Errorf("handler h1 missing from plan")
	}
}

func TestCompileDefaultsApply(t *testing.T) {
	pb, err := Parse("pb.yaml", []byte(goodPlaybook))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pb.Compile("h", map[string]any{"skip_it": false})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Steps[0].Run.(*echoTask).args.Strings("users"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("users = %v, want the playbook default [alice]", got)
	}
	if plan.Steps[1].Skip != "" {
		t.Errorf("second step skipped, want it run")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown kind", "name: p\ntasks:\n  - name: a\n    test_ecko: {name: x}\n",
			`pb.yaml:4:5: unknown task kind or field "test_ecko" (did you mean "test_echo"?)`},
		{"unknown argument", "name: p\ntasks:\n  - name: a\n    test_echo: {name: x, colour: 1}\n",
			`pb.yaml:4:26: unknown argument "colour" for test_echo`},
		{"missing argument", "name: p\ntasks:\n  - name: a\n    test_echo: {count: 1}\n",
			`pb.yaml:4:16: test_echo needs the argument "name"`},
		{"duplicate task", "name: p\ntasks:\n  - name: a\n    test_echo: {name: x}\n" +
			"  - name: a\n    test_echo: {name: y}\n", `pb.yaml:5:5: duplicate task name "a"`},
		{"unknown handler", "name: p\ntasks:\n  - name: a\n    test_echo: {name: x}\n    notify: nope\n",
			`pb.yaml:3:5: task "a" notifies unknown handler "nope"`},
		{"two kinds", "name: p\ntasks:\n  - name: a\n    test_echo: {name: x}\n    group: {name: y}\n",
			`pb.yaml:5:5: task has two kinds`},
		{"no name", "tasks:\n  - name: a\n    test_echo: {name: x}\n", `missing playbook name`},
		{"syntax", "name: p\ntasks: [\n", `pb.yaml:2:1: invalid YAML`},
		{"unknown top field", "name: p\ntask: []\n", `unknown playbook field "task" (did you mean "tasks"?)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("pb.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name, task, want string
	}{
		{"unknown variable", `{name: "{{ nope }}"}`,
			`pb.yaml:4:23: task "a": name: variable nope is not defined for host h1`},
		{"wrong type", `{name: x, count: "three"}`,
			`pb.yaml:4:33: task "a": count: expected an int, got string "three"`},
		{"list in string", `{name: "x{{ list }}"}`, `variable list is a list and cannot be part of a string`},
		{"unquoted template", `{name: x, users: {{ list }}}`, `a template must be quoted`},
		{"constructor error", `{name: bad}`, `pb.yaml:4:16: task "a": name must not be bad`},
		{"bad duration", `{name: x, wait: soon}`, `expected a duration such as 90s or 5m`},
		{"list item type", `{name: x, users: [a, 3]}`, `users: item 2: expected a string, got integer "3"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "name: p\ntasks:\n  - name: a\n    test_echo: " + tc.task + "\n"
			pb, err := Parse("pb.yaml", []byte(src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = pb.Compile("h1", map[string]any{"list": []any{"a"}})
			if err == nil {
				t.Fatalf("Compile succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestTemplateLeavesGoTemplates(t *testing.T) {
	e := &expander{host: "h", vars: map[string]any{"v": 3}}
	got, err := e.expandString("docker version --format '{{.Server.Version}}' {{ v }}")
	if err != nil {
		t.Fatal(err)
	}
	if want := "docker version --format '{{.Server.Version}}' 3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTemplateDefault(t *testing.T) {
	e := &expander{host: "h", vars: map[string]any{}}
	got, err := e.expandString("{{ users | default([a, b]) }}")
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := got.([]any); !ok || len(l) != 2 {
		t.Errorf("got %#v, want the default list [a b]", got)
	}
}

func TestWhenConditions(t *testing.T) {
	cases := []struct {
		when string
		vars map[string]any
		want bool
	}{
		{"upgrade", map[string]any{"upgrade": true}, true},
		{"not upgrade", map[string]any{"upgrade": true}, false},
		{"'{{ upgrade | default(false) }}'", nil, false},
		{"upgrade", map[string]any{"upgrade": "yes"}, true},
		{"false", nil, false},
	}
	for _, tc := range cases {
		src := "name: p\ntasks:\n  - name: a\n    when: " + tc.when + "\n    test_echo: {name: x}\n"
		pb, err := Parse("pb.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%s: Parse: %v", tc.when, err)
		}
		plan, err := pb.Compile("h", tc.vars)
		if err != nil {
			t.Fatalf("%s: Compile: %v", tc.when, err)
		}
		if got := plan.Steps[0].Skip == ""; got != tc.want {
			t.Errorf("when %s with %v: runs = %t, want %t", tc.when, tc.vars, got, tc.want)
		}
	}
}

func TestCompileReportsFiltersAndHosts(t *testing.T) {
	src := "name: p\ntasks:\n  - name: a\n    test_echo: {name: \"{{ who | upper }}\"}\n" +
		"  - name: b\n    test_echo: {name: x, users: \"{{ who }}\"}\n"
	pb, err := Parse("pb.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pb.Compile("web1", map[string]any{"who": []any{"alice", 3}})
	if err == nil {
		t.Fatal("Compile succeeded, want errors")
	}
	if !strings.Contains(err.Error(), `unsupported filter "upper"`) {
		t.Errorf("error %v does not name the unsupported filter", err)
	}
	if !strings.Contains(err.Error(), "value from the variables of host web1") {
		t.Errorf("error %v does not name the host whose variable is wrong", err)
	}
}

func TestNoArgumentKindMessage(t *testing.T) {
	tasks.Register(&tasks.Kind{Name: "test_noargs",
		New: func(tasks.Args) (tasks.Task, error) { return &echoTask{}, nil }})
	_, err := Parse("pb.yaml", []byte("name: p\ntasks:\n  - name: a\n    test_noargs: {foo: 1}\n"))
	if err == nil || !strings.Contains(err.Error(), "it takes no arguments") {
		t.Errorf("error = %v, want it to say the kind takes no arguments", err)
	}
}

func TestParseRejectsDuplicateKeys(t *testing.T) {
	src := "name: t\ntasks:\n  - name: a\n    when: false\n    when: true\n" +
		"    command: {cmd: \"true\", cmd: \"false\"}\ntasks: []\n"

	_, err := Parse("dup.yaml", []byte(src))

	if err == nil {
		t.Fatal("Parse accepted duplicate keys")
	}
	for _, want := range []string{
		`dup.yaml:5:5: duplicate key "when": it is already set at line 4, column 5`,
		`dup.yaml:6:28: duplicate key "cmd"`,
		`dup.yaml:7:1: duplicate key "tasks": it is already set at line 2, column 1`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v\nwant it to contain %q", err, want)
		}
	}
}

func TestParseRejectsEmptyPlaybooks(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"empty file", "", "empty.yaml:1:1: the playbook is empty"},
		{"empty tasks", "name: t\ntasks: []\n", "the tasks list is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("empty.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
