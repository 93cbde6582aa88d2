// Package runner runs compiled playbooks on many hosts at once: one connection per host,
// tasks in order, handlers when notified, and a rollback of the host's changes when a step
// fails.
package runner

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
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
	// Lock holds the host for this run until the returned function is called; see
	// transport.Client.Lock.
	Lock(ctx context.Context, path, owner string, wait time.Duration) (func(), error)
	Close() error
}

// Dialer opens a connection to a host.
type Dialer func(ctx context.Context, h *inventory.Host) (Conn, error)

// Observer receives progress events as they happen. Its methods are called from many
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
	// LockWait is how long a host held by another run is waited for. Check mode changes
	// nothing and takes no lock.
	LockWait time.Duration
	// JournalDir, when set, is a local directory that receives a copy of each host's undo
	// journal, old file contents included.
	JournalDir string

	// Stop, when done, lets the tasks under way finish but starts no new host or task.
	// Hosts stopped that way roll back. Nil means the ctx given to Run.
	Stop context.Context
	// Serial rolls the run out in batches; each batch starts when the previous one ended.
	Serial []BatchSize
	// MaxFailPercent stops the rollout after a batch in which more than this share of
	// hosts did not end ok or changed. A negative value never stops it.
	MaxFailPercent float64
	// Logger receives the start and end of the run and of each host at Info, and hosts
	// that did not end ok at Warn. Nil discards them.
	Logger *slog.Logger
}

// Run runs every job, at most opts.Forks at a time, and returns the host results in the
// order of jobs. A host that fails or cannot be reached does not stop the others. When ctx
// is cancelled, tasks under way are cancelled too; see Options.Stop for a gentler stop.
func Run(ctx context.Context, jobs []Job, opts Options) []report.Host {
	if opts.Stop == nil {
		opts.Stop = ctx
	}
	start := time.Now()
	logRunStart(ctx, &opts, len(jobs))
	results := make([]report.Host, len(jobs))
	var stopped string
	for n, b := range batches(len(jobs), opts.Serial) {
		if stopped != "" {
			skipAll(results[b[0]:b[1]], jobs[b[0]:b[1]], stopped)
			continue
		}
		runBatch(ctx, jobs[b[0]:b[1]], results[b[0]:b[1]], opts)
		if failed := countFailed(results[b[0]:b[1]]); opts.MaxFailPercent >= 0 &&
			float64(failed)*100 > opts.MaxFailPercent*float64(b[1]-b[0]) {
			stopped = fmt.Sprintf("not started: the rollout stopped after batch %d, in "+
				"which %d of %d hosts failed (more than --max-fail-percent %g)",
				n+1, failed, b[1]-b[0], opts.MaxFailPercent)
		}
	}
	logRunEnd(ctx, &opts, results, time.Since(start))
	return results
}

func runBatch(ctx context.Context, jobs []Job, results []report.Host, opts Options) {
	p := pool.New().WithMaxGoroutines(max(opts.Forks, 1))
	for i, job := range jobs {
		p.Go(func() {
			h := &hostRun{job: job, opts: opts}
			results[i] = h.run(ctx)
			opts.Observer.HostDone(results[i])
		})
	}
	p.Wait()
}

// skipAll reports hosts the rollout never reached.
func skipAll(results []report.Host, jobs []Job, reason string) {
	for i, job := range jobs {
		results[i] = report.Host{Name: job.Host.Name, Address: job.Host.Address, Port: job.Host.Port,
			Status: report.HostSkipped, Message: reason, Facts: map[string]any{},
			Tasks: []report.Task{}}
	}
}

func countFailed(results []report.Host) int {
	n := 0
	for _, r := range results {
		if r.Status != report.HostOK && r.Status != report.HostChanged {
			n++
		}
	}
	return n
}
