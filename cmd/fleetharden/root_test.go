package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestEnvTwinOfGlobalFlag(t *testing.T) {
	cliEnv(t)
	t.Setenv("FLEETHARDEN_LOG_LEVEL", "loud")

	r := runCLI(t, devNull(t), "version")

	wantCode(t, r, exitBadInput)
	if !strings.Contains(r.stderr, `invalid --log-level "loud"`) {
		t.Errorf("stderr lacks the log level error:\n%s", r.stderr)
	}
}

func TestFlagWinsOverEnvTwin(t *testing.T) {
	cliEnv(t)
	t.Setenv("FLEETHARDEN_LOG_LEVEL", "loud")

	r := runCLI(t, devNull(t), "version", "--log-level", "error")

	wantCode(t, r, exitOK)
}

func TestEnvTwinOfCommandFlag(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)
	junit := filepath.Join(f.dir, "env.xml")
	t.Setenv("FLEETHARDEN_JUNIT", junit)

	r := f.check(t, devNull(t))

	wantCode(t, r, exitOK)
	if _, err := os.Stat(junit); err != nil {
		t.Errorf("FLEETHARDEN_JUNIT wrote no report: %v", err)
	}
}

func TestLogLevelsAndFormats(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)

	r := f.check(t, devNull(t), "--log-level", "debug", "--log-format", "json")

	wantCode(t, r, exitOK)
	messages := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q", line)
		}
		messages[rec["msg"].(string)] = rec
	}
	for _, msg := range []string{"run started", "host connected", "command finished",
		"host finished", "run finished"} {
		if messages[msg] == nil {
			t.Errorf("no %q record in:\n%s", msg, r.stderr)
		}
	}
	cmd := messages["command finished"]
	if cmd != nil && (cmd["cmd"] != "echo hello" || cmd["task"] != "Say hello" ||
		cmd["run_id"] == nil || cmd["exit_code"] != 0.0) {
		t.Errorf("command record = %v, want cmd, task, run_id and exit_code", cmd)
	}
}

func TestDefaultLogLevelQuiet(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)

	r := f.check(t, devNull(t))

	wantCode(t, r, exitOK)
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing at the default level warn", r.stderr)
	}
}

func TestInvalidLogFormat(t *testing.T) {
	cliEnv(t)

	r := runCLI(t, devNull(t), "version", "--log-format", "xml")

	wantCode(t, r, exitBadInput)
	if !strings.Contains(r.stderr, `invalid --log-format "xml": use text or json`) {
		t.Errorf("stderr lacks the format error:\n%s", r.stderr)
	}
}

func TestJUnitFile(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 2, nil)
	path := filepath.Join(f.dir, "results.xml")

	r := f.check(t, devNull(t), "--junit", path)

	wantCode(t, r, exitOK)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("report is not valid XML: %v", err)
	}
	if suites.Tests != 2 || len(suites.Suites) != 2 {
		t.Errorf("report has %d tests in %d suites, want 2 in 2:\n%s", suites.Tests,
			len(suites.Suites), data)
	}
}

func TestJUnitStdoutMovesRecap(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)

	r := f.check(t, devNull(t), "--junit", "-")

	wantCode(t, r, exitOK)
	if !strings.HasPrefix(r.stdout, "<?xml") {
		t.Errorf("stdout does not start with the report:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "RECAP check") {
		t.Errorf("stderr lacks the recap:\n%s", r.stderr)
	}
}

func TestJSONAndJUnitBothStdout(t *testing.T) {
	cliEnv(t)
	f := newTestFleet(t, 1, nil)

	r := f.check(t, devNull(t), "--junit", "-", "--json", "-")

	wantCode(t, r, exitBadInput)
	if n := f.servers[0].Connections(); n != 0 {
		t.Errorf("%d connections before the run was rejected, want 0", n)
	}
}

func TestCompletionScripts(t *testing.T) {
	cliEnv(t)
	tests := map[string]string{
		"bash": "bash completion V2 for fleetharden",
		"zsh":  "#compdef fleetharden",
		"fish": "complete -c fleetharden",
	}
	for shell, want := range tests {
		r := runCLI(t, devNull(t), "completion", shell)

		wantCode(t, r, exitOK)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
}

func TestHelpListsCompletion(t *testing.T) {
	cliEnv(t)

	r := runCLI(t, devNull(t), "--help")

	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "completion  ") {
		t.Errorf("help does not list completion:\n%s", r.stdout)
	}
}

func TestEveryCommandHasExample(t *testing.T) {
	root := newRootCommand(nil, nil, nil)
	root.InitDefaultCompletionCmd()

	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			if sub.Name() == "completion" || sub.Name() == "help" {
				continue
			}
			if sub.Example == "" {
				t.Errorf("%q has no example in its help", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(root)
}
