package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
)

// The report has the common JUnit XML shape: <testsuites> contains one
// <testsuite> per host, and each <testcase> contains a <failure>, a
// <skipped> or neither.

// junitSuites is the root element.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

// junitSuite is one host.
type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// junitCase is one task on one host, or the host itself when it ended
// before its tasks.
type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// WriteJUnit writes the run as a JUnit XML report to path, or to stdout when
// path is "-". Each host is a test suite and each of its tasks a test case
// with the host as class name and the task as name. A failed task is a
// failure, a skipped task is skipped, and in check mode a task that would
// change the host is a failure of type "drift". A host that failed before
// or outside its tasks, such as an unreachable host, gets one failing test
// case named after the step that failed.
func (r *Run) WriteJUnit(path string, stdout io.Writer) error {
	data, err := xml.MarshalIndent(r.junit(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode JUnit report: %w", err)
	}
	data = append([]byte(xml.Header), data...)
	data = append(data, '\n')

	if path == "-" {
		if _, err := stdout.Write(data); err != nil {
			return fmt.Errorf("write JUnit report: %w", err)
		}
		return nil
	}
	return writeFileAtomic(path, data)
}

// junit builds the report of the run.
func (r *Run) junit() junitSuites {
	verb := "run"
	if r.Check {
		verb = "check"
	}

	root := junitSuites{Name: fmt.Sprintf("fleetharden %s %s", verb, r.RunID),
		Time: seconds(r.End.Sub(r.Start))}
	for _, h := range r.Hosts {
		suite := hostSuite(h, r.Check, r.Start)
		root.Tests += suite.Tests
		root.Failures += suite.Failures
		root.Skipped += suite.Skipped
		root.Suites = append(root.Suites, suite)
	}
	return root
}

// hostSuite returns the test suite of one host.
func hostSuite(h Host, check bool, start time.Time) junitSuite {
	suite := junitSuite{
		Name: h.Name, Hostname: h.Address,
		Time:       seconds(time.Duration(h.DurationMS) * time.Millisecond),
		Timestamp:  start.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{Name: "status", Value: string(h.Status)}},
		SystemOut:  rollbackText(h),
	}
	for _, t := range h.Tasks {
		suite.Cases = append(suite.Cases, taskCase(h.Name, t, check))
	}
	suite.Cases = append(suite.Cases, hostCases(h)...)

	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Skipped != nil {
			suite.Skipped++
		}
	}
	return suite
}

// taskCase returns the test case of one task.
func taskCase(host string, t Task, check bool) junitCase {
	c := junitCase{ClassName: host, Name: t.Name,
		Time: seconds(time.Duration(t.DurationMS) * time.Millisecond), SystemOut: t.Diff}
	if t.Handler {
		c.Name = "handler: " + t.Name
	}

	switch {
	case t.Status == tasks.StatusFailed:
		c.Failure = &junitFailure{Message: t.Message, Type: "failed", Text: t.Message}
	case t.Status == tasks.StatusSkipped:
		c.Skipped = &junitSkipped{Message: t.Message}
	case t.Status == tasks.StatusChanged && check:
		message := "would change"
		if t.Message != "" {
			message += ": " + t.Message
		}
		c.Failure = &junitFailure{Message: message, Type: "drift", Text: t.Diff}
		c.SystemOut = ""
	}
	return c
}

// hostCases returns the test cases for what happened outside the tasks: a
// host that was not reached or not started, a host that failed with no
// failed task, and a failed rollback.
func hostCases(h Host) []junitCase {
	hostCase := func(name string) junitCase {
		return junitCase{ClassName: h.Name, Name: name, Time: seconds(0)}
	}

	switch h.Status {
	case HostUnreachable:
		c := hostCase("connect")
		c.Failure = &junitFailure{Message: h.Message, Type: "unreachable", Text: h.Message}
		return []junitCase{c}
	case HostSkipped:
		c := hostCase("host")
		c.Skipped = &junitSkipped{Message: h.Message}
		return []junitCase{c}
	case HostRollbackFailed:
		c := hostCase("rollback")
		c.Failure = &junitFailure{Message: h.Message, Type: "rollback_failed", Text: h.Message}
		return []junitCase{c}
	case HostFailed, HostRolledBack:
		if !hasFailedTask(h) {
			c := hostCase("host")
			c.Failure = &junitFailure{Message: h.Message, Type: string(h.Status), Text: h.Message}
			return []junitCase{c}
		}
	}
	return nil
}

func hasFailedTask(h Host) bool {
	for _, t := range h.Tasks {
		if t.Status == tasks.StatusFailed {
			return true
		}
	}
	return false
}

// rollbackText lists the undo steps a host took, one a line.
func rollbackText(h Host) string {
	if len(h.Rollback) == 0 {
		return ""
	}
	return "rollback:\n" + strings.Join(h.Rollback, "\n") + "\n"
}

// seconds formats d as JUnit times are given: seconds with 3 decimals.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it over path, so a reader never sees half of it.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
