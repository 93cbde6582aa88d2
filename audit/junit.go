package audit

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// junitSuites is the root element of a JUnit XML report, as CI dashboards read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

// junitSuite is the test suite of one host.
type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Hostname  string      `xml:"hostname,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      float64     `xml:"time,attr"`
	Cases     []junitCase `xml:"testcase"`
}

// junitCase is one control on one host.
type junitCase struct {
	ClassName string         `xml:"classname,attr"`
	Name      string         `xml:"name,attr"`
	Time      float64        `xml:"time,attr"`
	Failure   *junitProblem  `xml:"failure,omitempty"`
	Error     *junitProblem  `xml:"error,omitempty"`
	Skipped   *junitSkipped  `xml:"skipped,omitempty"`
	SystemOut *junitCharData `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitCharData struct {
	Text string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: a test suite per host with a test case per
// control, whose class name is the host and whose name is the control's id and title.
// A failed control is a <failure>, and so is a warning when failOnWarn is set; otherwise
// a warning is passed with its evidence in <system-out>. A control that does not apply
// is <skipped>. A host that was not audited has one test case, "audit", with an <error>.
func (r *Report) WriteJUnit(w io.Writer, failOnWarn bool) error {
	root := junitSuites{Name: "fleetharden audit", Time: r.End.Sub(r.Start).Seconds()}
	for i := range r.Hosts {
		suite := junitHost(&r.Hosts[i], failOnWarn)
		suite.Timestamp = r.Start.Format("2006-01-02T15:04:05")
		root.Tests += suite.Tests
		root.Failures += suite.Failures
		root.Errors += suite.Errors
		root.Skipped += suite.Skipped
		root.Suites = append(root.Suites, suite)
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write the audit report as JUnit XML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("write the audit report as JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitHost returns the test suite of one host.
func junitHost(h *HostReport, failOnWarn bool) junitSuite {
	suite := junitSuite{Name: h.Name, Hostname: h.Address, Time: float64(h.DurationMS) / 1000}
	if h.Status != HostAudited {
		suite.Tests, suite.Errors = 1, 1
		suite.Cases = []junitCase{{ClassName: h.Name, Name: "audit",
			Error: &junitProblem{Message: string(h.Status) + ": " + h.Message,
				Type: string(h.Status)}}}
		return suite
	}

	for _, res := range h.Controls {
		tc := junitCase{ClassName: h.Name, Name: res.ID + ": " + res.Title}
		switch {
		case res.Verdict == Fail || (res.Verdict == Warn && failOnWarn):
			tc.Failure = &junitProblem{Message: res.Summary(), Type: string(res.Verdict),
				Text: junitDetail(res)}
			suite.Failures++
		case res.Verdict == Warn:
			tc.SystemOut = &junitCharData{Text: "warn: " + junitDetail(res)}
		case res.Verdict == NotApplicable:
			tc.Skipped = &junitSkipped{Message: "not applicable: " + res.Summary()}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, tc)
		suite.Tests++
	}
	return suite
}

// junitDetail returns the evidence of a result, a line per container for container
// controls, followed by its remediation.
func junitDetail(r Result) string {
	var b strings.Builder
	if r.Section == SectionContainer {
		for _, c := range r.Containers {
			if c.Verdict == Fail || c.Verdict == Warn {
				fmt.Fprintf(&b, "%s %s (%s, image %s): %s\n", c.Verdict, c.Name, c.ID, c.Image,
					formatEvidence(c.Evidence))
			}
		}
	} else {
		fmt.Fprintf(&b, "%s\n", formatEvidence(r.Evidence))
	}
	fmt.Fprintf(&b, "CIS Docker Benchmark: %s\nremediation: %s\n", strings.Join(r.CIS, ", "),
		r.Remediation)
	return b.String()
}
