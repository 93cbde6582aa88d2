package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/transport"
)

// fakeConn is a connection to a host whose gather script prints a fixture.
type fakeConn struct {
	fakeHost
	closed *atomic.Int32
}

func (c *fakeConn) Close() error {
	c.closed.Add(1)
	return nil
}

// fixtureFleet returns three hosts and a dialer: web1 returns the containers fixture,
// web2 cannot be reached, and web3 has no Docker daemon running.
func fixtureFleet(t *testing.T, closed *atomic.Int32) ([]*inventory.Host, Dialer) {
	t.Helper()
	containers, err := os.ReadFile("testdata/lab-containers.json")
	if err != nil {
		t.Fatal(err)
	}
	down := readProbes(t, "lab-default.json")
	down.DockerInfo = probe{Exit: 1, Stderr: "Cannot connect to the Docker daemon"}
	outputs := map[string][]byte{"web1": containers, "web3": encodeProbes(t, down)}

	hosts := []*inventory.Host{
		{Name: "web1", Address: "10.0.0.1", Port: 22},
		{Name: "web2", Address: "10.0.0.2", Port: 22},
		{Name: "web3", Address: "10.0.0.3", Port: 2222},
	}
	dial := func(ctx context.Context, h *inventory.Host) (Conn, error) {
		out, ok := outputs[h.Name]
		if !ok {
			return nil, fmt.Errorf("dial %s:22: connect: connection refused: %w",
				h.Address, transport.ErrUnreachable)
		}
		return &fakeConn{fakeHost: fakeHost{outputs: [][]byte{out}}, closed: closed}, nil
	}
	return hosts, dial
}

// fixtureReport audits fixtureFleet with the built-in controls.
func fixtureReport(t *testing.T, failOnWarn bool) *Report {
	t.Helper()
	var closed atomic.Int32
	hosts, dial := fixtureFleet(t, &closed)
	r := Run(context.Background(), hosts, Options{Forks: 2, Dial: dial,
		Controls: defaultControls(t), FailOnWarn: failOnWarn})
	if closed.Load() != 2 {
		t.Errorf("%d connections closed, want 2", closed.Load())
	}
	return r
}

func TestRunReportsEveryHost(t *testing.T) {
	r := fixtureReport(t, false)
	want := []HostStatus{HostAudited, HostUnreachable, HostError}
	for i, h := range r.Hosts {
		if h.Status != want[i] {
			t.Errorf("%s: status %s (%s), want %s", h.Name, h.Status, h.Message, want[i])
		}
	}
	if !strings.Contains(r.Hosts[1].Message, "connection refused") {
		t.Errorf("web2 message = %q, want the dial error", r.Hosts[1].Message)
	}
	if !strings.Contains(r.Hosts[2].Message, "Cannot connect to the Docker daemon") {
		t.Errorf("web3 message = %q, want docker info's error", r.Hosts[2].Message)
	}
	if n := len(r.Hosts[0].Controls); n != len(defaultControls(t)) {
		t.Errorf("web1 has %d results, want one per control", n)
	}
	if r.Hosts[0].State == nil {
		t.Error("web1 has no state in its report")
	}
}

func TestSummaryAndOutcome(t *testing.T) {
	r := fixtureReport(t, false)
	s := r.Summary
	if s.Hosts != 3 || s.Failing != 1 || s.Unreachable != 1 || s.Errors != 1 || s.Passing != 0 {
		t.Errorf("summary = %+v, want 1 failing, 1 unreachable, 1 error", s)
	}
	if r.Outcome() != OutcomeFailed {
		t.Errorf("outcome = %v, want failed", r.Outcome())
	}
	if len(s.Controls) == 0 || s.Controls[0].Fail != 1 {
		t.Fatalf("worst controls = %+v, want a failed one first", s.Controls)
	}
	for i := 1; i < len(s.Controls); i++ {
		if s.Controls[i].Fail > s.Controls[i-1].Fail {
			t.Errorf("controls not sorted by failures: %+v", s.Controls)
		}
	}
}

func TestOutcomeWithoutFailures(t *testing.T) {
	r := fixtureReport(t, false)
	r.Hosts = r.Hosts[1:] // web2 unreachable and web3 in error
	r.Summarize(defaultControls(t), false)
	if r.Outcome() != OutcomeIncomplete {
		t.Errorf("outcome = %v, want incomplete", r.Outcome())
	}

	r.Hosts = nil
	r.Summarize(defaultControls(t), false)
	if r.Outcome() != OutcomePassed {
		t.Errorf("outcome of no hosts = %v, want passed", r.Outcome())
	}
}

func TestOutcomeFailOnWarn(t *testing.T) {
	h := HostReport{Name: "web1", Status: HostAudited, Controls: []Result{
		{ID: "daemon.live-restore", Verdict: Warn}, {ID: "daemon.seccomp", Verdict: Pass}}}
	h.count()
	r := &Report{Hosts: []HostReport{h}}

	r.Summarize(nil, false)
	if r.Outcome() != OutcomePassed || r.Summary.Passing != 1 {
		t.Errorf("warnings only: outcome %v, summary %+v; want passed", r.Outcome(), r.Summary)
	}
	r.Summarize(nil, true)
	if r.Outcome() != OutcomeFailed || r.Summary.Failing != 1 {
		t.Errorf("fail-on warn: outcome %v, summary %+v; want failed", r.Outcome(), r.Summary)
	}
}

func TestRunSkipsHostsAfterCancel(t *testing.T) {
	var closed atomic.Int32
	hosts, dial := fixtureFleet(t, &closed)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Run(ctx, hosts, Options{Forks: 1, Dial: dial, Controls: defaultControls(t)})
	for _, h := range r.Hosts {
		if h.Status != HostSkipped {
			t.Errorf("%s: status %s, want skipped", h.Name, h.Status)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := fixtureReport(t, false).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary struct{ Failing int }
		Hosts   []struct {
			Name     string
			Status   string
			Controls []struct {
				ID         string
				Verdict    string
				Containers []struct{ Name, Verdict string }
			}
			State *struct{ Containers []struct{ Name string } }
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if doc.Summary.Failing != 1 || len(doc.Hosts) != 3 {
		t.Errorf("summary %+v with %d hosts, want 1 failing of 3", doc.Summary, len(doc.Hosts))
	}
	if doc.Hosts[0].State == nil || len(doc.Hosts[0].State.Containers) != 7 {
		t.Errorf("web1 state = %+v, want its 7 containers", doc.Hosts[0].State)
	}
	if doc.Hosts[1].State != nil || len(doc.Hosts[1].Controls) != 0 {
		t.Errorf("unreachable web2 has state or controls: %+v", doc.Hosts[1])
	}
}

// junitDoc is the part of a JUnit report that the tests read.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			ClassName string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped   *struct{} `xml:"skipped"`
			SystemOut *string   `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func writeJUnit(t *testing.T, failOnWarn bool) junitDoc {
	t.Helper()
	var buf bytes.Buffer
	if err := fixtureReport(t, failOnWarn).WriteJUnit(&buf, failOnWarn); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "<?xml") {
		t.Errorf("JUnit report does not start with an XML header")
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("report is not XML: %v\n%s", err, buf.String())
	}
	return doc
}

func TestJUnitShape(t *testing.T) {
	doc := writeJUnit(t, false)
	if len(doc.Suites) != 3 {
		t.Fatalf("%d test suites, want one per host", len(doc.Suites))
	}
	web1 := doc.Suites[0]
	if len(web1.Cases) != len(defaultControls(t)) {
		t.Errorf("web1 has %d test cases, want one per control", len(web1.Cases))
	}
	counts := map[string]int{}
	for _, c := range web1.Cases {
		if c.ClassName != "web1" {
			t.Errorf("classname = %q, want the host", c.ClassName)
		}
		switch {
		case c.Failure != nil:
			counts["failure"]++
			if c.Failure.Type != "fail" {
				t.Errorf("%s: failure type %q, want fail", c.Name, c.Failure.Type)
			}
		case c.Skipped != nil:
			counts["skipped"]++
		case c.SystemOut != nil:
			counts["warn"]++
			if !strings.HasPrefix(*c.SystemOut, "warn: ") {
				t.Errorf("%s: system-out %q, want a warning", c.Name, *c.SystemOut)
			}
		}
	}
	if counts["failure"] == 0 || counts["skipped"] == 0 || counts["warn"] == 0 {
		t.Errorf("web1 cases by kind = %v, want failures, skips and warnings", counts)
	}
	if doc.Failures != counts["failure"] || doc.Errors != 2 {
		t.Errorf("totals: %d failures, %d errors; want %d and 2", doc.Failures, doc.Errors,
			counts["failure"])
	}
}

func TestJUnitNames(t *testing.T) {
	doc := writeJUnit(t, false)
	for _, c := range doc.Suites[0].Cases {
		if c.Name != "container.seccomp: The container keeps a seccomp profile" {
			continue
		}
		if c.Failure == nil || !strings.Contains(c.Failure.Text, "fail audit-seccomp (") {
			t.Errorf("container.seccomp failure = %+v, want audit-seccomp named", c.Failure)
		}
		return
	}
	t.Error("no test case named after container.seccomp and its title")
}

func TestJUnitUnreachableHost(t *testing.T) {
	web2 := writeJUnit(t, false).Suites[1]
	if len(web2.Cases) != 1 || web2.Cases[0].Error == nil {
		t.Fatalf("web2 cases = %+v, want one error", web2.Cases)
	}
	if msg := web2.Cases[0].Error.Message; !strings.HasPrefix(msg, "unreachable: ") {
		t.Errorf("error message = %q, want it to start with unreachable", msg)
	}
}

func TestJUnitFailOnWarn(t *testing.T) {
	doc := writeJUnit(t, true)
	for _, c := range doc.Suites[0].Cases {
		if c.SystemOut != nil {
			t.Errorf("%s: warning in system-out under fail-on warn", c.Name)
		}
		if c.Failure != nil && c.Failure.Type == "warn" {
			return
		}
	}
	t.Error("no warning became a failure under fail-on warn")
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := fixtureReport(t, false).WriteTable(&buf, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"web1 (10.0.0.1:22): 9 fail, 7 warn, 13 pass, 2 not applicable",
		"fail            container.seccomp ",
		`audit-seccomp: seccomp_profile="unconfined"; audit-spellings: seccomp_profile=`,
		"web2 (10.0.0.2:22): unreachable: dial 10.0.0.2:22: connect: connection refused",
		"web3 (10.0.0.3:2222): error: docker info: exit status 1",
		"fleet: 3 hosts, 0 passing, 1 failing, 1 unreachable, 1 errors",
		"worst controls:\n  container.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("table has colours without Color")
	}
	if strings.Contains(out, "pass            ") {
		t.Error("table lists passed controls without Verbose")
	}
}

func TestWriteTableVerboseColor(t *testing.T) {
	var buf bytes.Buffer
	err := fixtureReport(t, false).WriteTable(&buf, TableOptions{Color: true, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "\x1b[32mpass          \x1b[0m  daemon.no-tcp-without-tls") {
		t.Errorf("verbose table lacks a green pass row:\n%s", out)
	}
	if !strings.Contains(out, "\x1b[31mfail") {
		t.Error("fail is not red")
	}
}

func TestWriteTableError(t *testing.T) {
	err := fixtureReport(t, false).WriteTable(failingWriter{}, TableOptions{})
	if err == nil || !errors.Is(err, os.ErrClosed) {
		t.Errorf("error = %v, want the writer's", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestRunLogsHosts(t *testing.T) {
	var closed atomic.Int32
	var buf bytes.Buffer
	hosts, dial := fixtureFleet(t, &closed)
	Run(context.Background(), hosts, Options{Forks: 3, Dial: dial, Controls: defaultControls(t),
		Logger: slog.New(slog.NewJSONHandler(&buf, nil))})

	records := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		records[rec["msg"].(string)] = append(records[rec["msg"].(string)], rec)
	}
	if len(records["audit started"]) != 1 || len(records["audit finished"]) != 1 {
		t.Errorf("start and end records = %v, want one of each", records)
	}
	if got := records["host audited"]; len(got) != 1 || got[0]["host"] != "web1" {
		t.Errorf("host audited records = %v, want web1", got)
	}
	failed := records["host not audited"]
	if len(failed) != 2 {
		t.Fatalf("host not audited records = %v, want web2 and web3", failed)
	}
	for _, rec := range failed {
		if rec["level"] != "WARN" || rec["error"] == "" {
			t.Errorf("record %v, want level WARN with the error", rec)
		}
	}
}

func TestRunSudoRefusalIsHostError(t *testing.T) {
	hosts := []*inventory.Host{{Name: "web1", Address: "10.0.0.1", Port: 22}}
	dial := func(ctx context.Context, h *inventory.Host) (Conn, error) {
		return nil, fmt.Errorf("become root as fleet on web1: %w: sudo: a password is required",
			transport.ErrBecome)
	}

	r := Run(context.Background(), hosts, Options{Forks: 1, Dial: dial, Controls: defaultControls(t)})

	if h := r.Hosts[0]; h.Status != HostError || !strings.Contains(h.Message, "password is required") {
		t.Errorf("status %s (%s), want error with sudo's message", h.Status, h.Message)
	}
}
