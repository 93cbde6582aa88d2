package tasks

import (
	"strings"
	"testing"
)

func TestSanitizeOutput(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		keepLines bool
		want      string
	}{
		{"plain text", "docker 24.0.5", false, "docker 24.0.5"},
		{"invalid utf-8", "a\xffb", false, "a\uFFFDb"},
		{"escape sequence", "\x1b[31mred", false, "\uFFFD[31mred"},
		{"carriage return dropped", "line\r\n", true, "line\n"},
		{"newline kept", "a\nb\tc", true, "a\nb\tc"},
		{"newline replaced", "a\nb", false, "a\uFFFDb"},
		{"c1 control", "a\u0085b", true, "a\uFFFDb"},
		{"bidi override", "abc\u202edef", true, "abc\uFFFDdef"},
		{"non-ascii letters kept", "größe", false, "größe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeOutput(tt.in, tt.keepLines); got != tt.want {
				t.Errorf("sanitizeOutput(%q, %v) = %q, want %q", tt.in, tt.keepLines, got, tt.want)
			}
		})
	}
}

func TestOutputTailKeepsLastLines(t *testing.T) {
	got := outputTail([]byte("one\n\ntwo\r\nthree\n  four  \n\n"), 3)
	if want := "two | three | four"; got != want {
		t.Errorf("outputTail = %q, want %q", got, want)
	}
}

func TestOutputTailShortensLongOutput(t *testing.T) {
	got := outputTail([]byte(strings.Repeat("x", 1000)+"END"), 1)
	if !strings.HasPrefix(got, "...") {
		t.Errorf("outputTail = %q, want a leading ...", got)
	}
	if !strings.HasSuffix(got, "END") {
		t.Errorf("outputTail = %q, want the end of the output kept", got)
	}
	if n := len([]rune(got)); n != messageMaxRunes+3 {
		t.Errorf("outputTail length = %d runes, want %d", n, messageMaxRunes+3)
	}
}

func TestShortenBack(t *testing.T) {
	if got := shortenBack("abcdef", 3); got != "abc..." {
		t.Errorf("shortenBack = %q, want %q", got, "abc...")
	}
	if got := shortenBack("abc", 3); got != "abc" {
		t.Errorf("shortenBack = %q, want %q", got, "abc")
	}
}

func TestParseRemoteReport(t *testing.T) {
	out := "noise\nresult=healthy\nelapsed_cs=210\n" +
		"--- fleetharden before\nii docker.io 1\n" +
		"--- fleetharden output\nline a\nx=y\n--- fleetharden before\nspoofed\n"
	report := parseRemoteReport([]byte(out))

	if got := report.fields["result"]; got != "healthy" {
		t.Errorf("result = %q, want healthy", got)
	}
	if got := report.fields["elapsed_cs"]; got != "210" {
		t.Errorf("elapsed_cs = %q, want 210", got)
	}
	if _, ok := report.fields["x"]; ok {
		t.Errorf("a key=value line inside a section became a field")
	}
	if got := report.sections["before"]; got != "ii docker.io 1" {
		t.Errorf("before = %q, want the first section kept", got)
	}
	want := "line a\nx=y\n--- fleetharden before\nspoofed"
	if got := report.sections["output"]; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestParseRemoteReportEmptySection(t *testing.T) {
	report := parseRemoteReport([]byte("--- fleetharden log\n--- fleetharden health\nbad\n"))
	if got, ok := report.sections["log"]; !ok || got != "" {
		t.Errorf("log = %q, %v; want an empty section", got, ok)
	}
	if got := report.sections["health"]; got != "bad" {
		t.Errorf("health = %q, want bad", got)
	}
}

// buildSystemTask builds a task of the named kind the way the playbook reader does:
// absent arguments take their defaults before Kind.New runs.
func buildSystemTask(t *testing.T, kind string, args Args) (Task, error) {
	t.Helper()
	k, ok := Lookup(kind)
	if !ok {
		t.Fatalf("kind %s is not registered", kind)
	}

	full := Args{}
	for _, p := range k.Params {
		if p.Default != nil {
			full[p.Name] = p.Default
		}
	}
	for name, value := range args {
		if _, ok := k.Param(name); !ok {
			t.Fatalf("kind %s has no parameter %s", kind, name)
		}
		full[name] = value
	}
	return k.New(full)
}

// mustBuildSystemTask is buildSystemTask for arguments that must be valid.
func mustBuildSystemTask(t *testing.T, kind string, args Args) Task {
	t.Helper()
	task, err := buildSystemTask(t, kind, args)
	if err != nil {
		t.Fatalf("new %s task: %v", kind, err)
	}
	return task
}
