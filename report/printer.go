package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
)

// Plain prints one line per finished task and per finished host, prefixed with the host
// name, for output that is not a terminal: logs of scheduled runs and CI.
type Plain struct {
	mu   sync.Mutex
	w    io.Writer
	Diff bool // print file diffs under the task lines
}

// NewPlain returns a Plain printer writing to w.
func NewPlain(w io.Writer, diff bool) *Plain { return &Plain{w: w, Diff: diff} }

// HostStarted prints nothing: the first task line shows the host is under way.
func (p *Plain) HostStarted(host string) {}

// TaskStarted prints nothing, so logs hold one line per task.
func (p *Plain) TaskStarted(host, task string) {}

// TaskDone prints the task's status and message.
func (p *Plain) TaskDone(host string, t Task) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s | %s | %s | %s\n", host, t.Name, t.Status, t.Message)
	if p.Diff && t.Diff != "" {
		writeIndented(p.w, host+" |   ", t.Diff)
	}
}

// HostDone prints the host's final status.
func (p *Plain) HostDone(h Host) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s | done | %s | %s\n", h.Name, h.Status, hostSummary(h))
}

func hostSummary(h Host) string {
	c := h.Counts()
	s := fmt.Sprintf("ok=%d changed=%d failed=%d skipped=%d in %s",
		c[tasks.StatusOK], c[tasks.StatusChanged], c[tasks.StatusFailed],
		c[tasks.StatusSkipped], formatMS(h.DurationMS))
	if h.Message != "" {
		s += ": " + h.Message
	}
	return s
}

func writeIndented(w io.Writer, prefix, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", prefix, line)
	}
}

func formatMS(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
}

// WriteRecap prints the end-of-run table: one row per host with its task counts and
// duration, then the fleet's totals.
func WriteRecap(w io.Writer, r *Run) {
	hosts := append([]Host(nil), r.Hosts...)
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	width := 4
	for _, h := range hosts {
		width = max(width, len(h.Name))
	}

	verb := "run"
	if r.Check {
		verb = "check"
	}
	fmt.Fprintf(w, "\nRECAP %s %s in %s\n", verb, r.RunID,
		r.End.Sub(r.Start).Round(100*time.Millisecond))
	for _, h := range hosts {
		c := h.Counts()
		fmt.Fprintf(w, "%-*s  %-15s ok=%-3d changed=%-3d failed=%-3d skipped=%-3d %8s\n",
			width, h.Name, h.Status, c[tasks.StatusOK], c[tasks.StatusChanged],
			c[tasks.StatusFailed], c[tasks.StatusSkipped], formatMS(h.DurationMS))
		if h.Message != "" {
			fmt.Fprintf(w, "%-*s  %s\n", width, "", h.Message)
		}
	}

	s := r.Summary
	fmt.Fprintf(w, "hosts=%d ok=%d changed=%d failed=%d rolled_back=%d rollback_failed=%d "+
		"unreachable=%d skipped=%d\n", s.Hosts, s.OK, s.Changed, s.Failed, s.RolledBack,
		s.RollbackFailed, s.Unreachable, s.Skipped)
}

// WriteDiffs prints the diff of every task that has one, under its host and task name.
func WriteDiffs(w io.Writer, r *Run) {
	for _, h := range r.Hosts {
		for _, t := range h.Tasks {
			if t.Diff == "" {
				continue
			}
			fmt.Fprintf(w, "\n%s | %s | %s\n", h.Name, t.Name, t.Status)
			writeIndented(w, "  ", t.Diff)
		}
	}
}
