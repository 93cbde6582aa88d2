package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/playbook"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

// writeTask sets a file's content, recording the old one first, as real kinds do.
type writeTask struct{ path, content string }

func (w *writeTask) Run(ctx context.Context, env *tasks.Env) tasks.Outcome {
	prev, err := env.Host.ReadFile(ctx, w.path)
	if err == nil && string(prev.Data) == w.content {
		return tasks.OK("already set")
	}
	if err != nil {
		prev = nil
	}
	if env.Check {
		return tasks.Changed("would write " + w.path)
	}
	if err := env.Undo.SaveFile(ctx, w.path, prev); err != nil {
		return tasks.Failed(err)
	}
	if err := env.Host.WriteFile(ctx, w.path, []byte(w.content), transport.FileMeta{Mode: 0o644}); err != nil {
		return tasks.Failed(err)
	}
	return tasks.Changed("wrote " + w.path)
}

type failTask struct{}

func (failTask) Run(ctx context.Context, env *tasks.Env) tasks.Outcome {
	return tasks.Failed(errors.New("boom"))
}

// hangTask waits for its deadline and fails as a remote command cut short does.
type hangTask struct{}

func (hangTask) Run(ctx context.Context, env *tasks.Env) tasks.Outcome {
	<-ctx.Done()
	return tasks.Failed(fmt.Errorf("run `sleep 60`: %w (%w)", ctx.Err(), transport.ErrTimeout))
}

func init() {
	tasks.Register(&tasks.Kind{
		Name: "test_write",
		Params: []tasks.Param{
			{Name: "path", Type: tasks.TypeString, Required: true},
			{Name: "content", Type: tasks.TypeString, Required: true},
		},
		New: func(a tasks.Args) (tasks.Task, error) {
			return &writeTask{a.String("path"), a.String("content")}, nil
		},
	})
	tasks.Register(&tasks.Kind{Name: "test_fail",
		New: func(tasks.Args) (tasks.Task, error) { return failTask{}, nil }})
	tasks.Register(&tasks.Kind{Name: "test_hang",
		New: func(tasks.Args) (tasks.Task, error) { return hangTask{}, nil }})
	tasks.Register(&tasks.Kind{Name: "test_check_fail", ReadOnly: true,
		New: func(tasks.Args) (tasks.Task, error) { return failTask{}, nil }})
}

// recorder is an Observer that keeps the finished tasks per host.
type recorder struct {
	mu    sync.Mutex
	tasks map[string][]string
}

func (r *recorder) HostStarted(string)         {}
func (r *recorder) TaskStarted(string, string) {}
func (r *recorder) HostDone(report.Host)       {}
func (r *recorder) TaskDone(host string, t report.Task) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tasks == nil {
		r.tasks = map[string][]string{}
	}
	r.tasks[host] = append(r.tasks[host], t.Name+"="+string(t.Status))
}

// fleet is a set of fake hosts and the dialer that reaches them.
type fleet map[string]*tasktest.Host

func (f fleet) dial(ctx context.Context, h *inventory.Host) (Conn, error) {
	host, ok := f[h.Name]
	if !ok {
		return nil, fmt.Errorf("dial %s: %w", h.Name, transport.ErrUnreachable)
	}
	return host, nil
}

func runPlaybook(t *testing.T, src string, f fleet, names ...string) ([]report.Host, *recorder) {
	t.Helper()
	pb, err := playbook.Parse("pb.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var jobs []Job
	for _, name := range names {
		plan, err := pb.Compile(name, nil)
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		jobs = append(jobs, Job{Host: &inventory.Host{Name: name, Address: name}, Plan: plan})
	}
	rec := &recorder{}
	res := Run(context.Background(), jobs, Options{RunID: "r1", Forks: 2, TaskTimeout: 1e9,
		Dial: f.dial, Observer: rec})
	return res, rec
}

const handlerPlaybook = `name: t
tasks:
  - name: write a
    test_write: {path: /etc/a, content: A}
    notify: h
  - name: write b
    test_write: {path: /etc/b, content: B}
    notify: h
handlers:
  - name: h
    test_write: {path: /etc/h, content: handled}
`

func TestRunChangesAndNotifiesOnce(t *testing.T) {
	f := fleet{"h1": tasktest.NewHost(), "h2": tasktest.NewHost()}
	res, rec := runPlaybook(t, handlerPlaybook, f, "h1", "h2", "gone")

	for i, name := range []string{"h1", "h2"} {
		if res[i].Status != report.HostChanged {
			t.Errorf("%s status = %s, want changed", name, res[i].Status)
		}
		want := "write a=changed,write b=changed,h=changed"
		if got := strings.Join(rec.tasks[name], ","); got != want {
			t.Errorf("%s tasks = %s, want %s", name, got, want)
		}
	}
	if res[2].Status != report.HostUnreachable {
		t.Errorf("gone status = %s, want unreachable", res[2].Status)
	}
}

func TestRunSecondRunChangesNothing(t *testing.T) {
	f := fleet{"h1": tasktest.NewHost()}
	runPlaybook(t, handlerPlaybook, f, "h1")
	res, rec := runPlaybook(t, handlerPlaybook, f, "h1")
	if res[0].Status != report.HostOK {
		t.Errorf("second run status = %s, want ok", res[0].Status)
	}
	if got := strings.Join(rec.tasks["h1"], ","); got != "write a=ok,write b=ok" {
		t.Errorf("second run tasks = %s, want both ok and no handler", got)
	}
}

func TestRunRollsBackAfterFailure(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile("/etc/a", "original")
	src := `name: t
tasks:
  - name: write a
    test_write: {path: /etc/a, content: new}
  - name: write b
    test_write: {path: /etc/b, content: new}
  - name: break
    test_fail:
`
	res, _ := runPlaybook(t, src, fleet{"h1": h}, "h1")
	if res[0].Status != report.HostRolledBack {
		t.Fatalf("status = %s (%s), want rolled_back", res[0].Status, res[0].Message)
	}
	if got, _ := h.File("/etc/a"); got != "original" {
		t.Errorf("/etc/a = %q, want the original content back", got)
	}
	if _, ok := h.File("/etc/b"); ok {
		t.Errorf("/etc/b exists, want it removed since the run created it")
	}
	if len(res[0].Rollback) != 2 {
		t.Errorf("rollback steps = %v, want two", res[0].Rollback)
	}
	if !strings.Contains(res[0].Message, `task "break": boom`) {
		t.Errorf("message = %q, want the original failure", res[0].Message)
	}
}

func TestRunReadOnlyFailureKeepsChanges(t *testing.T) {
	h := tasktest.NewHost()
	src := `name: t
tasks:
  - name: write a
    test_write: {path: /etc/a, content: new}
  - name: verify
    test_check_fail:
`
	res, _ := runPlaybook(t, src, fleet{"h1": h}, "h1")
	if res[0].Status != report.HostFailed {
		t.Errorf("status = %s, want failed", res[0].Status)
	}
	if got, _ := h.File("/etc/a"); got != "new" {
		t.Errorf("/etc/a = %q, want the change kept after a failed check", got)
	}
}

func TestRunCheckModeWritesNothing(t *testing.T) {
	h := tasktest.NewHost()
	r := &recorder{}
	pb, err := playbook.Parse("pb.yaml", []byte(handlerPlaybook))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pb.Compile("h1", nil)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), []Job{{Host: &inventory.Host{Name: "h1"}, Plan: plan}},
		Options{RunID: "r", Forks: 1, TaskTimeout: 1e9, Check: true,
			Dial: fleet{"h1": h}.dial, Observer: r})
	if res[0].Status != report.HostChanged {
		t.Errorf("status = %s, want changed (would change)", res[0].Status)
	}
	if len(h.Writes) != 0 {
		t.Errorf("check mode wrote %v, want nothing", h.Writes)
	}
}

func TestRunTimeoutMessageSaysItOnce(t *testing.T) {
	f := fleet{"h1": tasktest.NewHost()}
	res, _ := runPlaybook(t, `name: t
tasks:
  - name: hang
    test_hang: {}
    timeout: 50ms
`, f, "h1")

	want := "timed out after 50ms: run `sleep 60`"
	if got := res[0].Tasks[0].Message; got != want {
		t.Errorf("task message = %q, want %q", got, want)
	}
	if got := res[0].Message; got != `task "hang": `+want {
		t.Errorf("host message = %q, want the task's", got)
	}
}
