package playbook

import (
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
)

func init() {
	tasks.Register(&tasks.Kind{
		Name: "test_shell",
		Params: []tasks.Param{
			{Name: "cmd", Type: tasks.TypeString, Required: true, Shell: true},
			{Name: "note", Type: tasks.TypeString},
		},
		New: func(args tasks.Args) (tasks.Task, error) { return &echoTask{args: args}, nil },
	})
}

func TestShellTemplateQuotesValue(t *testing.T) {
	src := `name: shell
tasks:
  - name: inside text
    test_shell: {cmd: "printf %s {{ word }} > /tmp/out", note: "n {{ word }}"}
  - name: whole value
    test_shell: {cmd: "{{ word }}"}
  - name: safe word
    test_shell: {cmd: "echo {{ safe }}"}
`
	pb, err := Parse("pb.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	word := "x; touch /tmp/m $(id) `id` it's"

	plan, err := pb.Compile("web1", map[string]any{"word": word, "safe": "docker.io"})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}

	args := func(i int) tasks.Args { return plan.Steps[i].Run.(*echoTask).args }
	want := `printf %s 'x; touch /tmp/m $(id) ` + "`id`" + ` it'\''s' > /tmp/out`
	if got := args(0).String("cmd"); got != want {
		t.Errorf("cmd = %q, want the variable quoted as one word: %q", got, want)
	}
	if got := args(0).String("note"); got != "n "+word {
		t.Errorf("note = %q, want the variable as it is outside a shell command", got)
	}
	if got := args(1).String("cmd"); got != word {
		t.Errorf("whole-value cmd = %q, want the variable as the command %q", got, word)
	}
	if got := args(2).String("cmd"); got != "echo docker.io" {
		t.Errorf("cmd = %q, want a safe word left unquoted", got)
	}
}
