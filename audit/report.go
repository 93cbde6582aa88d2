package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// HostStatus is the outcome of the audit of one host.
type HostStatus string

// The host statuses.
const (
	HostAudited HostStatus = "audited"
	// HostUnreachable is a host that could not be connected or logged in to.
	HostUnreachable HostStatus = "unreachable"
	// HostError is a host that was reached but whose sudo rejected the login user, or
	// whose Docker daemon could not be queried.
	HostError HostStatus = "error"
	// HostSkipped is a host the audit never started on, because it was interrupted.
	HostSkipped HostStatus = "skipped"
)

// Report is the result of an audit of a fleet.
type Report struct {
	Start   time.Time    `json:"start"`
	End     time.Time    `json:"end"`
	Summary Summary      `json:"summary"`
	Hosts   []HostReport `json:"hosts"`
}

// HostReport is the result of the audit of one host.
type HostReport struct {
	Name       string     `json:"name"`
	Address    string     `json:"address"`
	Port       int        `json:"port"`
	Status     HostStatus `json:"status"`
	Message    string     `json:"message,omitempty"` // cause when the host was not audited
	Counts     Counts     `json:"counts"`
	Controls   []Result   `json:"controls"`
	State      *State     `json:"state,omitempty"` // state the controls were decided on
	DurationMS int64      `json:"duration_ms"`
}

// Counts are the controls of a host by verdict.
type Counts struct {
	Pass          int `json:"pass"`
	Fail          int `json:"fail"`
	Warn          int `json:"warn"`
	NotApplicable int `json:"not_applicable"`
}

// count sets Counts from Controls.
func (h *HostReport) count() {
	h.Counts = Counts{}
	for _, r := range h.Controls {
		switch r.Verdict {
		case Pass:
			h.Counts.Pass++
		case Fail:
			h.Counts.Fail++
		case Warn:
			h.Counts.Warn++
		case NotApplicable:
			h.Counts.NotApplicable++
		}
	}
}

// Passing reports whether an audited host has no failed control, nor a warning when
// failOnWarn is set.
func (h *HostReport) Passing(failOnWarn bool) bool {
	return h.Status == HostAudited && h.Counts.Fail == 0 && (!failOnWarn || h.Counts.Warn == 0)
}

// Summary counts the hosts of a report by outcome and ranks the controls that failed.
type Summary struct {
	Hosts       int  `json:"hosts"`
	Passing     int  `json:"passing"`
	Failing     int  `json:"failing"` // audited hosts with a failed control
	Unreachable int  `json:"unreachable"`
	Errors      int  `json:"errors"`
	Skipped     int  `json:"skipped"`
	FailOnWarn  bool `json:"fail_on_warn"` // warnings count as failures
	// Controls are the controls that failed or warned on some host, worst first: most
	// hosts failing, then most hosts warning.
	Controls []ControlSummary `json:"controls"`
}

// ControlSummary is the count of hosts on which one control failed or warned.
type ControlSummary struct {
	ID          string   `json:"id"`
	CIS         []string `json:"cis"`
	Title       string   `json:"title"`
	Fail        int      `json:"fail"` // hosts on which it failed
	Warn        int      `json:"warn"` // hosts on which it warned
	Remediation string   `json:"remediation"`
}

// Summarize sets the report's summary. controls gives the order of controls that fare
// equally.
func (r *Report) Summarize(controls []*Control, failOnWarn bool) {
	s := Summary{Hosts: len(r.Hosts), FailOnWarn: failOnWarn, Controls: []ControlSummary{}}
	byID := map[string]*ControlSummary{}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		s.countHost(h, failOnWarn)
		for _, res := range h.Controls {
			if res.Verdict != Fail && res.Verdict != Warn {
				continue
			}
			cs := byID[res.ID]
			if cs == nil {
				cs = &ControlSummary{ID: res.ID, CIS: res.CIS, Title: res.Title,
					Remediation: res.Remediation}
				byID[res.ID] = cs
			}
			if res.Verdict == Fail {
				cs.Fail++
			} else {
				cs.Warn++
			}
		}
	}

	for _, c := range controls {
		if cs := byID[c.ID]; cs != nil {
			s.Controls = append(s.Controls, *cs)
		}
	}
	sort.SliceStable(s.Controls, func(i, j int) bool {
		a, b := s.Controls[i], s.Controls[j]
		if a.Fail != b.Fail {
			return a.Fail > b.Fail
		}
		return a.Warn > b.Warn
	})
	r.Summary = s
}

func (s *Summary) countHost(h *HostReport, failOnWarn bool) {
	switch h.Status {
	case HostAudited:
		if h.Passing(failOnWarn) {
			s.Passing++
		} else {
			s.Failing++
		}
	case HostUnreachable:
		s.Unreachable++
	case HostError:
		s.Errors++
	case HostSkipped:
		s.Skipped++
	}
}

// Outcome is the result of a report that decides the exit status of fleetharden audit.
type Outcome int

// The outcomes, from best to worst.
const (
	// OutcomePassed is a report in which every host was audited and none failed.
	OutcomePassed Outcome = iota
	// OutcomeIncomplete is a report in which no host failed, but some host could not be
	// reached, queried or started on.
	OutcomeIncomplete
	// OutcomeFailed is a report in which a control failed on some host, or warned when
	// warnings count.
	OutcomeFailed
)

// Outcome returns what the report means for the exit status: a failed control wins over
// a host that was not audited.
func (r *Report) Outcome() Outcome {
	s := r.Summary
	switch {
	case s.Failing > 0:
		return OutcomeFailed
	case s.Unreachable+s.Errors+s.Skipped > 0:
		return OutcomeIncomplete
	}
	return OutcomePassed
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write the audit report as JSON: %w", err)
	}
	return nil
}
