package audit

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDefaultControlsParse(t *testing.T) {
	controls := defaultControls(t)
	if len(controls) < 30 {
		t.Errorf("%d built-in controls, want at least 30", len(controls))
	}
	cisRE := regexp.MustCompile(`^\d+(\.\d+)+$`)
	for _, c := range controls {
		if len(c.CIS) == 0 {
			t.Errorf("%s has no CIS number", c.ID)
		}
		for _, n := range c.CIS {
			if !cisRE.MatchString(n) {
				t.Errorf("%s: invalid CIS number %q", c.ID, n)
			}
		}
		if !strings.HasPrefix(c.ID, c.Section+".") {
			t.Errorf("%s is in section %s, want its id to start with it", c.ID, c.Section)
		}
	}
}

func TestDefaultControlsCoverTheBenchmark(t *testing.T) {
	want := []string{"daemon.no-tcp-without-tls", "daemon.log-rotation",
		"daemon.no-new-privileges", "daemon.live-restore", "daemon.userland-proxy-off",
		"daemon.icc-off", "daemon.no-insecure-registries", "daemon.seccomp",
		"daemon.experimental-off", "daemon.docker-group-empty", "files.daemon-json",
		"files.docker-socket", "files.docker-service", "files.docker-socket-unit",
		"files.etc-docker", "files.etc-default-docker", "container.privileged",
		"container.no-added-capabilities", "container.no-new-privileges",
		"container.seccomp", "container.apparmor", "container.host-network",
		"container.host-pid", "container.host-ipc", "container.host-uts",
		"container.docker-socket", "container.sensitive-mounts",
		"container.read-only-rootfs", "container.memory-limit", "container.pids-limit"}
	ids := map[string]bool{}
	for _, c := range defaultControls(t) {
		ids[c.ID] = true
	}
	for _, id := range want {
		if !ids[id] {
			t.Errorf("control %s is missing", id)
		}
	}
}

func TestParseControlsErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"syntax", "controls:\n  - id: a\n    title: [x\n", "bad.yaml:2:1: invalid YAML"},
		{"top level", "- id: a\n", "bad.yaml:1:1: a controls file is a mapping"},
		{"unknown top key", "control: []\n", `bad.yaml:1:1: unknown key "control"`},
		{"unknown field", "controls:\n  - id: a\n    titel: x\n",
			`bad.yaml:3:5: unknown field "titel"`},
		{"bad id", "controls:\n  - id: Daemon ICC\n", `bad.yaml:2:9: invalid id "Daemon ICC"`},
		{"bad severity", "controls:\n  - id: a\n    severity: error\n",
			`bad.yaml:3:15: invalid severity "error": use fail or warn`},
		{"bad section", "controls:\n  - id: a\n    section: host\n",
			`bad.yaml:3:14: invalid section "host"`},
		{"bad path", "controls:\n  - id: a\n    expect: {path: '$.daemon[', equals: 1}\n",
			`bad.yaml:3:20: invalid path "$.daemon["`},
		{"relative path", "controls:\n  - id: a\n    expect: {path: daemon.icc, equals: 1}\n",
			`bad.yaml:3:20: invalid path "daemon.icc"`},
		{"two operators", "controls:\n  - id: a\n    expect: {path: $.a, equals: 1, in: [1]}\n",
			"bad.yaml:3:36: a condition has one operator, but this one has equals and in"},
		{"no operator", "controls:\n  - id: a\n    expect: {path: $.a}\n",
			"bad.yaml:3:13: a condition needs path and one of"},
		{"unknown operator", "controls:\n  - id: a\n    expect: {path: $.a, eq: 1}\n",
			`bad.yaml:3:25: unknown key "eq" in a condition`},
		{"bad regexp", "controls:\n  - id: a\n    expect: {path: $.a, matches: '('}\n",
			"bad.yaml:3:34: matches must be a Go regular expression"},
		{"bad mode", "controls:\n  - id: a\n    expect: {path: $.a, max_mode: rw-r}\n",
			`bad.yaml:3:35: max_mode must be an octal mode`},
		{"exists not bool", "controls:\n  - id: a\n    expect: {path: $.a, exists: yes}\n",
			"bad.yaml:3:33: exists must be true or false"},
		{"empty all", "controls:\n  - id: a\n    expect: {all: []}\n",
			"bad.yaml:3:19: all must be a non-empty list of conditions"},
		{"not with more", "controls:\n  - id: a\n    expect: {not: {path: $.a, equals: 1}, any: []}\n",
			"bad.yaml:3:43: not must be alone in its mapping"},
		{"duplicate id", "controls:\n  - id: a\n  - id: a\n",
			"bad.yaml:3:5: duplicate control id a: it is already defined at bad.yaml:2:5"},
		{"missing id", "controls:\n  - title: x\n", "bad.yaml:2:5: missing id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseControls("bad.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

func TestParseControlsReportsEveryError(t *testing.T) {
	data := "controls:\n  - id: a\n    severity: bad\n  - id: b\n    section: bad\n"
	_, err := ParseControls("bad.yaml", []byte(data))
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 {
		t.Errorf("error = %v, want 2 joined errors", err)
	}
}

// parseOverrides parses a controls file and merges it into the built-in controls.
func parseOverrides(t *testing.T, data string) ([]*Control, error) {
	t.Helper()
	extra, err := ParseControls("site.yaml", []byte(data))
	if err != nil {
		t.Fatalf("ParseControls: %v", err)
	}
	return Merge(defaultControls(t), extra)
}

func findControl(controls []*Control, id string) *Control {
	for _, c := range controls {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func TestMergeOverridesFieldsById(t *testing.T) {
	controls, err := parseOverrides(t, "controls:\n  - id: daemon.icc-off\n    severity: fail\n")
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if len(controls) != len(defaultControls(t)) {
		t.Errorf("%d controls after an override, want %d", len(controls), len(defaultControls(t)))
	}
	c := findControl(controls, "daemon.icc-off")
	if c.Severity != Fail {
		t.Errorf("severity = %s, want fail from the override", c.Severity)
	}
	if c.Title == "" || c.expect == nil || c.Remediation == "" || len(c.CIS) == 0 {
		t.Errorf("override lost the fields it does not set: %+v", c)
	}
	if c.Pos.File != "site.yaml" {
		t.Errorf("position = %s, want the override's", c.Pos)
	}
	if orig := findControl(defaultControls(t), "daemon.icc-off"); orig.Severity != Warn {
		t.Errorf("the built-in control changed: severity %s", orig.Severity)
	}
}

func TestMergeAllowsCapabilities(t *testing.T) {
	controls, err := parseOverrides(t, `controls:
  - id: container.no-added-capabilities
    expect: {path: "$.container.cap_add[*]", in: [SYS_ADMIN, NET_ADMIN, SYS_PTRACE]}
`)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	results, err := Evaluate(controls, stateOf(t, readProbes(t, "lab-containers.json")))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.ID == "container.no-added-capabilities" && r.Verdict != Pass {
			t.Errorf("verdict %s, want pass once the capabilities are allowed: %s",
				r.Verdict, r.Summary())
		}
	}
}

func TestMergeAddsNewControl(t *testing.T) {
	controls, err := parseOverrides(t, `controls:
  - id: daemon.debug-off
    title: Debug logging is off
    section: daemon
    severity: warn
    expect: {path: "$.daemon.config.debug", exists: false}
    remediation: Remove "debug" from daemon.json.
`)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if last := controls[len(controls)-1]; last.ID != "daemon.debug-off" {
		t.Errorf("last control = %s, want the new one", last.ID)
	}
}

func TestMergeRejectsIncompleteNewControl(t *testing.T) {
	_, err := parseOverrides(t, "controls:\n  - id: daemon.typo\n    severity: fail\n")
	want := "site.yaml:2:5: control daemon.typo: missing title, section, expect, remediation"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestLoadControlsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.yaml")
	data := []byte("controls:\n  - id: a\n    severity: x\n")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadControls(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3:15: ") {
		t.Errorf("error = %v, want it to start with %s:3:15", err, path)
	}
	if _, err := LoadControls(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error = %v, want os.ErrNotExist", err)
	}
}

func TestSkip(t *testing.T) {
	all := defaultControls(t)
	kept, err := Skip(all, []string{"daemon.icc-off", " container.pids-limit", ""})
	if err != nil {
		t.Fatalf("Skip: %v", err)
	}
	if len(kept) != len(all)-2 {
		t.Errorf("%d controls kept, want %d", len(kept), len(all)-2)
	}
	if findControl(kept, "daemon.icc-off") != nil {
		t.Error("daemon.icc-off was not skipped")
	}
	if len(defaultControls(t)) != len(all) || findControl(all, "daemon.icc-off") == nil {
		t.Error("Skip changed its input")
	}

	_, err = Skip(all, []string{"daemon.icc"})
	if err == nil || !strings.Contains(err.Error(), `skip "daemon.icc": no control has this id`) {
		t.Errorf("unknown id error = %v", err)
	}
}

// satisfied parses a condition and evaluates it on a YAML document.
func satisfied(t *testing.T, cond, doc string) bool {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(cond), &n); err != nil {
		t.Fatal(err)
	}
	p := &controlParser{file: "test.yaml"}
	c := p.condition(n.Content[0])
	if len(p.errs) > 0 {
		t.Fatalf("condition %s: %v", cond, errors.Join(p.errs...))
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	return c.satisfied(root.Content[0])
}

func TestConditionOperators(t *testing.T) {
	doc := `{"n": 3, "f": 2.5, "s": "json-file", "b": false, "z": null, "l": [], "m": {},
		"mode": "0640", "caps": ["NET_RAW", "CHOWN"], "mounts": [{"rw": true}, {"rw": false}]}`
	tests := []struct {
		cond string
		want bool
	}{
		{"{path: $.n, equals: 3}", true},
		{"{path: $.n, equals: 3.0}", true},
		{"{path: $.s, equals: json-file}", true},
		{"{path: $.b, equals: false}", true},
		{"{path: $.z, equals: null}", true},
		{"{path: $.missing, equals: null}", false},
		{"{path: $.l, equals: []}", true},
		{"{path: $.s, in: [local, json-file]}", true},
		{"{path: '$.caps[*]', in: [NET_RAW, CHOWN]}", true},
		{"{path: '$.caps[*]', in: [NET_RAW]}", false},
		{"{path: '$.l[*]', in: [NET_RAW]}", true},
		{"{path: '$.mounts[?(@.rw == true)].rw', equals: true}", true},
		{"{path: '$.mounts[?(@.rw == true)].rw', equals: false}", false},
		{"{path: $.s, matches: '^json'}", true},
		{"{path: $.n, matches: '3'}", false},
		{"{path: $.n, greater_than: 2}", true},
		{"{path: $.f, greater_than: 2.5}", false},
		{"{path: $.mode, max_mode: '0644'}", true},
		{"{path: $.mode, max_mode: '0600'}", false},
		{"{path: $.z, exists: true}", false},
		{"{path: $.missing, exists: false}", true},
		{"{path: $.b, exists: true}", true},
		{"{path: $.l, empty: true}", true},
		{"{path: $.m, empty: true}", true},
		{"{path: $.z, empty: true}", true},
		{"{path: $.missing, empty: true}", true},
		{"{path: $.caps, empty: true}", false},
		{"{path: '$.mounts[?(@.rw == true)]', empty: false}", true},
		{"{all: [{path: $.n, equals: 3}, {path: $.b, equals: true}]}", false},
		{"{any: [{path: $.n, equals: 4}, {path: $.b, equals: false}]}", true},
		{"{not: {path: $.s, equals: local}}", true},
	}
	for _, tt := range tests {
		if got := satisfied(t, tt.cond, doc); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}
