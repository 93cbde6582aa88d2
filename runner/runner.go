// Package runner runs compiled playbooks on many hosts at once: one connection per host,
// tasks in order, handlers when notified, and a rollback of the host's changes when a step
// fails.
package runner

import (
	"context"
	"io/fs"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/playbook"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks"
)

// Conn is an open connection to one host.
type Conn interface {
	tasks.Host
	MkdirAll(ctx context.Context, path string, mode fs.FileMode) error
	Close() error
}

// Dialer opens a connection to a host.
type Dialer func(ctx context.Context, h *inventory.Host) (Conn, error)

// Observer is told about progress as it happens. Its methods are called from many
// goroutines at once.
type Observer interface {
	HostStarted(host string)
	TaskStarted(host, task string)
	TaskDone(host string, t report.Task)
	HostDone(h report.Host)
}

// Job is one host with its compiled plan.
type Job struct {
	Host *inventory.Host
	Plan *playbook.Plan
}

// Options control a run.
type Options struct {
	RunID       string
	Forks       int           // hosts worked on at once
	TaskTimeout time.Duration // default limit for one task
	Check       bool          // report what would change, change nothing
	Dial        Dialer
	Observer    Observer
}

// Run runs every job, at most opts.Forks at a time, and returns the host results in the
// order of jobs. A host that fails or cannot be reached does not stop the others. When ctx
// is cancelled, hosts not yet started are reported skipped, and hosts under way stop after
// their current task and roll back.
func Run(ctx context.Context, jobs []Job, opts Options) []report.Host {
	results := make([]report.Host, len(jobs))
	p := pool.New().WithMaxGoroutines(max(opts.Forks, 1))
	for i, job := range jobs {
		p.Go(func() {
			h := &hostRun{job: job, opts: opts}
			results[i] = h.run(ctx)
			opts.Observer.HostDone(results[i])
		})
	}
	p.Wait()
	return results
}
