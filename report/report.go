// Package report holds the results of a run and writes them: the JSON document for
// scheduled runs, the recap and the progress lines an operator watches.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
)

// HostStatus is the final state of a host in a run.
type HostStatus string

// The host statuses, from best to worst.
const (
	HostOK             HostStatus = "ok"
	HostChanged        HostStatus = "changed"
	HostFailed         HostStatus = "failed"
	HostRolledBack     HostStatus = "rolled_back"
	HostUnreachable    HostStatus = "unreachable"
	HostRollbackFailed HostStatus = "rollback_failed"
	// HostSkipped is a host the run never started on, because it was interrupted.
	HostSkipped HostStatus = "skipped"
)

// Run is the result of one run over a fleet.
type Run struct {
	RunID     string    `json:"run_id"`
	Playbook  string    `json:"playbook"`
	Inventory string    `json:"inventory"`
	Check     bool      `json:"check"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Summary   Summary   `json:"summary"`
	Hosts     []Host    `json:"hosts"`
}

// Summary counts hosts by how they ended.
type Summary struct {
	Hosts          int `json:"hosts"`
	OK             int `json:"ok"`
	Changed        int `json:"changed"`
	Failed         int `json:"failed"`
	Unreachable    int `json:"unreachable"`
	RolledBack     int `json:"rolled_back"`
	RollbackFailed int `json:"rollback_failed"`
	Skipped        int `json:"skipped"`
}

// Host is the result of a run on one host.
type Host struct {
	Name       string         `json:"name"`
	Address    string         `json:"address"`
	Port       int            `json:"port"`
	Status     HostStatus     `json:"status"`
	Message    string         `json:"message,omitempty"`
	Facts      map[string]any `json:"facts"`
	Tasks      []Task         `json:"tasks"`
	Rollback   []string       `json:"rollback,omitempty"` // the undo steps taken, in order
	DurationMS int64          `json:"duration_ms"`
}

// Task is the result of one task or handler on one host.
type Task struct {
	Name       string       `json:"name"`
	Kind       string       `json:"kind"`
	Handler    bool         `json:"handler,omitempty"`
	Status     tasks.Status `json:"status"`
	Message    string       `json:"message"`
	Diff       string       `json:"diff,omitempty"`
	DurationMS int64        `json:"duration_ms"`
}

// Counts returns how many of the host's tasks ended in each status.
func (h *Host) Counts() map[tasks.Status]int {
	c := map[tasks.Status]int{}
	for _, t := range h.Tasks {
		c[t.Status]++
	}
	return c
}

// Summarize fills in the run's summary from its hosts.
func (r *Run) Summarize() {
	s := Summary{Hosts: len(r.Hosts)}
	for _, h := range r.Hosts {
		switch h.Status {
		case HostOK:
			s.OK++
		case HostChanged:
			s.Changed++
		case HostFailed:
			s.Failed++
		case HostUnreachable:
			s.Unreachable++
		case HostRolledBack:
			s.RolledBack++
		case HostRollbackFailed:
			s.RollbackFailed++
		case HostSkipped:
			s.Skipped++
		}
	}
	r.Summary = s
}

// WriteJSON writes the run as indented JSON to path, or to stdout when path is "-". A file
// is written to a temporary name first and renamed, so a reader never sees half of it.
func (r *Run) WriteJSON(path string, stdout io.Writer) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	data = append(data, '\n')
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}

	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
