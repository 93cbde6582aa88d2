package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
)

// parsedSuites is the JUnit shape as a test report reader sees it, declared
// apart from the writer's types so the test checks the XML itself.
type parsedSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []struct {
		Name      string `xml:"name,attr"`
		Hostname  string `xml:"hostname,attr"`
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Skipped   int    `xml:"skipped,attr"`
		Timestamp string `xml:"timestamp,attr"`
		SystemOut string `xml:"system-out"`
		Props     []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []parsedCase `xml:"testcase"`
	} `xml:"testsuite"`
}

type parsedCase struct {
	ClassName string `xml:"classname,attr"`
	Name      string `xml:"name,attr"`
	Time      string `xml:"time,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
}

func junitRun(check bool) *Run {
	start := time.Date(2026, 12, 4, 15, 30, 0, 0, time.UTC)
	return &Run{RunID: "20261204T153000Z-abcdef", Check: check, Start: start,
		End: start.Add(12500 * time.Millisecond),
		Hosts: []Host{
			{Name: "web1", Address: "10.0.0.1", Status: HostChanged, DurationMS: 2500,
				Tasks: []Task{
					{Name: "Rotate logs", Status: tasks.StatusChanged, Message: "set log-opts",
						Diff: "-a\n+b\n", DurationMS: 1200},
					{Name: "Docker group", Status: tasks.StatusOK, DurationMS: 40},
					{Name: "Upgrade", Status: tasks.StatusSkipped, Message: "when: false"},
					{Name: "restart docker", Handler: true, Status: tasks.StatusChanged},
				}},
			{Name: "web2", Address: "10.0.0.2", Status: HostRolledBack,
				Message:  `task "Rotate logs": dockerd rejected <daemon.json> & quit`,
				Rollback: []string{"restore /etc/docker/daemon.json", "restart docker"},
				Tasks: []Task{{Name: "Rotate logs", Status: tasks.StatusFailed,
					Message: "dockerd rejected <daemon.json> & quit\x1b[31m"}}},
			{Name: "web3", Address: "10.0.0.3", Status: HostUnreachable,
				Message: "connect web3 (10.0.0.3:22): host unreachable: timed out"},
			{Name: "web4", Status: HostSkipped, Message: "not started: the run was interrupted"},
			{Name: "web5", Status: HostRollbackFailed, Message: "rollback failed: disk full",
				Tasks: []Task{{Name: "Rotate logs", Status: tasks.StatusFailed, Message: "x"}}},
			{Name: "web6", Status: HostFailed, Message: "wait for the host lock: locked"},
		}}
}

// writeParsed writes the run's report to a file and parses it back.
func writeParsed(t *testing.T, r *Run) parsedSuites {
	t.Helper()

	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := r.WriteJUnit(path, nil); err != nil {
		t.Fatalf("WriteJUnit: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("report does not start with the XML declaration:\n%s", data)
	}

	var got parsedSuites
	if err := xml.Unmarshal(data, &got); err != nil {
		t.Fatalf("report is not valid XML: %v\n%s", err, data)
	}
	return got
}

func TestJUnitTotals(t *testing.T) {
	got := writeParsed(t, junitRun(false))

	if got.Name != "fleetharden run 20261204T153000Z-abcdef" {
		t.Errorf("name = %q", got.Name)
	}
	if got.Tests != 10 {
		t.Errorf("tests = %d, want 10", got.Tests)
	}
	if got.Failures != 5 {
		t.Errorf("failures = %d, want 5", got.Failures)
	}
	if got.Skipped != 2 {
		t.Errorf("skipped = %d, want 2", got.Skipped)
	}
	if got.Time != "12.500" {
		t.Errorf("time = %q, want 12.500", got.Time)
	}
	if len(got.Suites) != 6 {
		t.Fatalf("%d suites, want one per host", len(got.Suites))
	}
}

func TestJUnitTaskCases(t *testing.T) {
	got := writeParsed(t, junitRun(false))
	web1 := got.Suites[0]

	if web1.Name != "web1" || web1.Hostname != "10.0.0.1" {
		t.Errorf("suite = %q (%q), want web1 (10.0.0.1)", web1.Name, web1.Hostname)
	}
	if web1.Timestamp != "2026-12-04T15:30:00" {
		t.Errorf("timestamp = %q", web1.Timestamp)
	}
	if len(web1.Props) != 1 || web1.Props[0].Value != "changed" {
		t.Errorf("properties = %+v, want status changed", web1.Props)
	}
	names := []string{"Rotate logs", "Docker group", "Upgrade", "handler: restart docker"}
	if len(web1.Cases) != len(names) {
		t.Fatalf("web1 has %d cases, want %d", len(web1.Cases), len(names))
	}
	for i, c := range web1.Cases {
		if c.ClassName != "web1" || c.Name != names[i] {
			t.Errorf("case %d = %s/%s, want web1/%s", i, c.ClassName, c.Name, names[i])
		}
	}

	changed := web1.Cases[0]
	if changed.Failure != nil || changed.Time != "1.200" || changed.SystemOut != "-a\n+b\n" {
		t.Errorf("changed case = %+v, want a pass in 1.200s with the diff", changed)
	}
	if skipped := web1.Cases[2]; skipped.Skipped == nil ||
		skipped.Skipped.Message != "when: false" {
		t.Errorf("skipped case = %+v, want <skipped> with the message", skipped)
	}
}

func TestJUnitFailures(t *testing.T) {
	got := writeParsed(t, junitRun(false))

	failed := got.Suites[1].Cases[0].Failure
	if failed == nil || failed.Type != "failed" ||
		!strings.HasPrefix(failed.Message, "dockerd rejected <daemon.json> & quit") {
		t.Errorf("failed task = %+v, want <failure> with the message", failed)
	}
	if out := got.Suites[1].SystemOut; !strings.Contains(out, "restore /etc/docker/daemon.json") {
		t.Errorf("rolled back host system-out = %q, want the rollback steps", out)
	}

	tests := []struct {
		suite          int
		name, failType string
	}{
		{2, "connect", "unreachable"},
		{4, "rollback", "rollback_failed"},
		{5, "host", "failed"},
	}
	for _, tt := range tests {
		cases := got.Suites[tt.suite].Cases
		c := cases[len(cases)-1]
		if c.Name != tt.name || c.Failure == nil || c.Failure.Type != tt.failType {
			t.Errorf("suite %s: last case %q failure %+v, want %q of type %q",
				got.Suites[tt.suite].Name, c.Name, c.Failure, tt.name, tt.failType)
		}
	}

	skipped := got.Suites[3].Cases
	if len(skipped) != 1 || skipped[0].Skipped == nil {
		t.Errorf("skipped host cases = %+v, want one <skipped>", skipped)
	}
}

func TestJUnitCheckDrift(t *testing.T) {
	got := writeParsed(t, junitRun(true))

	if got.Name != "fleetharden check 20261204T153000Z-abcdef" {
		t.Errorf("name = %q", got.Name)
	}
	drift := got.Suites[0].Cases[0].Failure
	if drift == nil || drift.Type != "drift" || drift.Message != "would change: set log-opts" {
		t.Errorf("changed task in check mode = %+v, want a drift failure", drift)
	}
	if drift != nil && drift.Text != "-a\n+b\n" {
		t.Errorf("drift text = %q, want the diff", drift.Text)
	}
	if got.Failures != 7 {
		t.Errorf("failures = %d, want 7 with the two drifts", got.Failures)
	}
}

func TestJUnitStdout(t *testing.T) {
	var out bytes.Buffer

	if err := junitRun(false).WriteJUnit("-", &out); err != nil {
		t.Fatal(err)
	}

	var got parsedSuites
	if err := xml.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not valid XML: %v", err)
	}
	if len(got.Suites) != 6 {
		t.Errorf("%d suites on stdout, want 6", len(got.Suites))
	}
}

func TestJUnitWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "junit.xml")

	err := junitRun(false).WriteJUnit(path, nil)

	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %v, want one naming %s", err, path)
	}
}
