package audit

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TableOptions control the text report.
type TableOptions struct {
	Color   bool // colour the verdicts with ANSI escape sequences
	Verbose bool // list passed and not applicable controls too
	// MaxEvidence is the width at which evidence is cut; 0 means 100 characters.
	MaxEvidence int
	// WorstControls is how many controls the fleet summary lists; 0 means 5.
	WorstControls int
}

// ansi are the colours of the verdicts.
var ansi = map[Verdict]string{Fail: "\x1b[31m", Warn: "\x1b[33m", Pass: "\x1b[32m",
	NotApplicable: "\x1b[2m"}

const ansiReset = "\x1b[0m"

// verdictWidth is the width of the longest verdict, not_applicable.
const verdictWidth = len(NotApplicable)

// WriteTable writes the report for people: per host a line with its counts and a table
// of the controls that failed or warned, then a fleet summary with the worst controls.
func (r *Report) WriteTable(w io.Writer, opts TableOptions) error {
	if opts.MaxEvidence <= 0 {
		opts.MaxEvidence = 100
	}
	if opts.WorstControls <= 0 {
		opts.WorstControls = 5
	}

	bw := bufio.NewWriter(w)
	for i := range r.Hosts {
		writeHost(bw, &r.Hosts[i], opts)
	}
	r.writeSummary(bw, opts)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the audit report: %w", err)
	}
	return nil
}

// writeHost writes the heading line of a host and the table of its controls.
func writeHost(w io.Writer, h *HostReport, opts TableOptions) {
	addr := h.Address
	if h.Port != 0 {
		addr += ":" + strconv.Itoa(h.Port)
	}
	if h.Status != HostAudited {
		fmt.Fprintf(w, "%s (%s): %s: %s\n\n", h.Name, addr, h.Status, h.Message)
		return
	}
	c := h.Counts
	fmt.Fprintf(w, "%s (%s): %d fail, %d warn, %d pass, %d not applicable\n", h.Name, addr,
		c.Fail, c.Warn, c.Pass, c.NotApplicable)

	var rows []Result
	idWidth := len("CONTROL")
	for _, res := range h.Controls {
		if opts.Verbose || res.Verdict == Fail || res.Verdict == Warn {
			rows = append(rows, res)
			idWidth = max(idWidth, len(res.ID))
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(w)
		return
	}

	fmt.Fprintf(w, "  %-*s  %-*s  %-9s  %s\n", verdictWidth, "VERDICT", idWidth, "CONTROL",
		"CIS", "EVIDENCE")
	for _, res := range rows {
		verdict := fmt.Sprintf("%-*s", verdictWidth, res.Verdict)
		if opts.Color {
			verdict = ansi[res.Verdict] + verdict + ansiReset
		}
		fmt.Fprintf(w, "  %s  %-*s  %-9s  %s\n", verdict, idWidth, res.ID,
			strings.Join(res.CIS, ","), cut(res.Summary(), opts.MaxEvidence))
	}
	fmt.Fprintln(w)
}

// writeSummary writes the fleet summary and the worst controls with their remediation.
func (r *Report) writeSummary(w io.Writer, opts TableOptions) {
	s := r.Summary
	passing := "passing"
	if s.FailOnWarn {
		passing = "passing without warnings"
	}
	fmt.Fprintf(w, "fleet: %d hosts, %d %s, %d failing, %d unreachable, %d errors",
		s.Hosts, s.Passing, passing, s.Failing, s.Unreachable, s.Errors)
	if s.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", s.Skipped)
	}
	fmt.Fprintln(w)

	if len(s.Controls) == 0 {
		return
	}
	fmt.Fprintln(w, "worst controls:")
	for _, c := range s.Controls[:min(len(s.Controls), opts.WorstControls)] {
		fmt.Fprintf(w, "  %s (CIS %s): fail on %d, warn on %d of %d hosts\n    fix: %s\n",
			c.ID, strings.Join(c.CIS, ", "), c.Fail, c.Warn, s.Hosts, c.Remediation)
	}
}

// cut shortens s to width characters, marking the cut with "...".
func cut(s string, width int) string {
	runes := []rune(s)
	if len(runes) <= width {
		return s
	}
	return string(runes[:max(width-3, 0)]) + "..."
}
