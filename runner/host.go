package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/playbook"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/transport"
)

// rollbackTimeout bounds the undo of one host's changes, which runs even after the run
// was interrupted.
const rollbackTimeout = 5 * time.Minute

// hostRun is the run of one plan on one host.
type hostRun struct {
	job      Job
	opts     Options
	conn     Conn
	env      *tasks.Env
	journal  *journal
	result   report.Host
	notified []string
	failure  error
	// failedReadOnly is set when the failing task only inspected the host.
	failedReadOnly bool
}

func (h *hostRun) run(ctx context.Context) report.Host {
	start := time.Now()
	h.runHost(ctx)
	h.result.DurationMS = time.Since(start).Milliseconds()
	h.logDone(ctx)
	return h.result
}

func (h *hostRun) runHost(ctx context.Context) {
	host := h.job.Host
	h.result = report.Host{Name: host.Name, Address: host.Address, Port: host.Port,
		Facts: map[string]any{}, Tasks: []report.Task{}}

	if err := h.opts.Stop.Err(); err != nil {
		h.result.Status = report.HostSkipped
		h.result.Message = "not started: the run was interrupted"
		return
	}
	h.opts.Observer.HostStarted(host.Name)

	dialStart := time.Now()
	conn, err := h.opts.Dial(ctx, host)
	if err != nil {
		h.result.Status = dialStatus(err)
		h.result.Message = err.Error()
		return
	}
	defer conn.Close()
	h.logConnected(ctx, time.Since(dialStart))
	h.conn = conn
	if !h.opts.Check {
		release, err := conn.Lock(ctx, lockPath(host), h.lockOwner(), h.opts.LockWait)
		if err != nil {
			h.result.Status = report.HostFailed
			h.result.Message = fmt.Sprintf("wait for the host lock: %v", err)
			return
		}
		defer release()
	}
	h.journal = newJournal(conn, h.opts.RunID, host.Name, h.opts.JournalDir)
	h.env = &tasks.Env{Host: conn, Check: h.opts.Check, Facts: h.result.Facts, Undo: h.journal,
		Memo: tasks.NewMemoFor(h.job.Plan.Tasks())}

	h.runSteps(ctx)
	h.finish(ctx)
}

// runSteps runs the plan's tasks in order, then the handlers still pending. It stops at the
// first failure.
func (h *hostRun) runSteps(ctx context.Context) {
	for _, step := range h.job.Plan.Steps {
		if err := h.opts.Stop.Err(); err != nil {
			h.failure = fmt.Errorf("interrupted before task %q", step.Task.Name)
			return
		}
		if step.Task.Kind.Name == "flush_handlers" && step.Skip == "" {
			if !h.runHandlers(ctx) {
				return
			}
		}
		if !h.runStep(ctx, step, false) {
			return
		}
	}
	h.runHandlers(ctx)
}

// runHandlers runs the notified handlers once each, in the order the playbook lists them.
func (h *hostRun) runHandlers(ctx context.Context) bool {
	pending := h.notified
	h.notified = nil
	for _, step := range h.job.Plan.Handlers {
		if !contains(pending, step.Task.Name) {
			continue
		}
		if h.opts.Stop.Err() != nil {
			h.failure = fmt.Errorf("interrupted before handler %q", step.Task.Name)
			return false
		}
		if !h.runStep(ctx, step, true) {
			return false
		}
	}
	return true
}

// runStep runs one task and records its result. It returns false when the host must stop.
func (h *hostRun) runStep(ctx context.Context, step playbook.Step, handler bool) bool {
	name := h.job.Host.Name
	h.opts.Observer.TaskStarted(name, step.Task.Name)
	start := time.Now()

	out := h.outcome(ctx, step)
	res := report.Task{
		Name: step.Task.Name, Kind: step.Task.Kind.Name, Handler: handler,
		Status: out.Status, Message: out.Message, Diff: out.Diff,
		DurationMS: time.Since(start).Milliseconds(),
	}
	h.result.Tasks = append(h.result.Tasks, res)
	h.opts.Observer.TaskDone(name, res)

	for k, v := range out.Facts {
		h.result.Facts[k] = v
	}
	// Reads that tasks share hold only while the host is as they found it.
	if out.Status == tasks.StatusChanged ||
		(step.Task.Kind.Opaque && out.Status != tasks.StatusSkipped) {
		h.env.Memo.Forget()
	}
	if out.Status == tasks.StatusChanged {
		for _, n := range step.Task.Notify {
			if !contains(h.notified, n) {
				h.notified = append(h.notified, n)
			}
		}
	}
	if out.Status == tasks.StatusFailed {
		h.failedReadOnly = step.Task.Kind.ReadOnly
		h.failure = fmt.Errorf("task %q: %s", step.Task.Name, out.Message)
		if out.Err != nil {
			h.failure = fmt.Errorf("task %q: %w", step.Task.Name, out.Err)
		}
		return false
	}
	return true
}

// deadlineSuffix ends the message of a task whose remote operation its deadline cut
// short, as transport reports it. The message of a timed-out task drops it, since it
// starts with the timeout.
var deadlineSuffix = fmt.Sprintf(": %v (%v)", context.DeadlineExceeded, transport.ErrTimeout)

// retoldError is an error with the text of a task's message, for the host's failure,
// that still unwraps to the error the task returned.
type retoldError struct {
	text string
	err  error
}

func (e *retoldError) Error() string { return e.text }
func (e *retoldError) Unwrap() error { return e.err }

func (h *hostRun) outcome(ctx context.Context, step playbook.Step) tasks.Outcome {
	if step.Skip != "" {
		return tasks.Skipped(step.Skip)
	}
	timeout := h.opts.TaskTimeout
	if step.Task.Timeout > 0 {
		timeout = step.Task.Timeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tctx = transport.WithLogAttrs(tctx, slog.String("task", step.Task.Name))

	out := step.Run.Run(tctx, h.env)
	if out.Status == tasks.StatusFailed && errors.Is(tctx.Err(), context.DeadlineExceeded) &&
		ctx.Err() == nil {
		inner := strings.TrimSuffix(out.Message, deadlineSuffix)
		out.Message = fmt.Sprintf("timed out after %s: %s", timeout, inner)
		if out.Err != nil {
			out.Err = &retoldError{text: out.Message, err: out.Err}
		}
	}
	return out
}

// finish sets the host's status, rolling its changes back after a failure. The rollback
// runs after a gentle stop, but not once ctx is cancelled: the journal on the host then
// still allows a later rollback.
func (h *hostRun) finish(ctx context.Context) {
	if h.failure == nil {
		h.result.Status = report.HostOK
		for _, t := range h.result.Tasks {
			if t.Status == tasks.StatusChanged {
				h.result.Status = report.HostChanged
			}
		}
		if err := h.journal.setState(ctx, journalDone); err != nil {
			h.result.Message = "the run succeeded but its journal was not closed: " + err.Error()
		}
		return
	}

	h.result.Message = h.failure.Error()
	if errors.Is(h.failure, transport.ErrUnreachable) && h.journal.empty() {
		h.result.Status = report.HostUnreachable
		return
	}
	if h.journal.empty() || h.failedReadOnly {
		h.result.Status = report.HostFailed
		return
	}

	ctx, cancel := context.WithTimeout(ctx, rollbackTimeout)
	defer cancel()
	steps, err := h.journal.rollback(ctx)
	h.result.Rollback = steps
	if err != nil {
		h.result.Status = report.HostRollbackFailed
		h.result.Message = fmt.Sprintf("%s; rollback failed: %v", h.result.Message, err)
		h.journal.setState(ctx, journalRollbackFailed)
		return
	}
	h.result.Status = report.HostRolledBack
	h.journal.setState(ctx, journalRolledBack)
}

// dialStatus returns the status of a host that could not be logged in to. sudo refusing
// the user or its password is a failure of the host's setup, not of the network.
func dialStatus(err error) report.HostStatus {
	if errors.Is(err, transport.ErrBecome) {
		return report.HostFailed
	}
	return report.HostUnreachable
}

// lockPath returns the host lock's file: in /run, cleared at boot, when the run is root
// there, else in /tmp for the login user alone.
func lockPath(h *inventory.Host) string {
	if h.Become || h.User == "root" {
		return "/run/fleetharden.lock"
	}
	return "/tmp/fleetharden-" + h.User + ".lock"
}

// lockOwner describes this run for the message another run shows while it waits.
func (h *hostRun) lockOwner() string {
	name, _ := os.Hostname()
	return fmt.Sprintf("fleetharden run %s from %s, pid %d", h.opts.RunID, name, os.Getpid())
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
