package tasks

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/vmware-labs/yaml-jsonpath/pkg/yamlpath"
	"gopkg.in/yaml.v3"
)

var assertParams = []Param{
	{Name: "file", Type: TypeString, Doc: "absolute path of the file to read; give file or cmd"},
	{Name: "cmd", Type: TypeString, Shell: true,
		Doc: "command whose standard output is read; give file or cmd"},
	{Name: "format", Type: TypeString,
		Doc: "json or yaml; by default from the file extension, json for cmd"},
	{Name: "that", Type: TypeList, Required: true,
		Doc: "assertions: each has a JSONPath path and one of equals, matches, exists or count"},
}

func init() {
	Register(&Kind{
		Name: "assert",
		Doc: "Check values in a JSON or YAML file, or in a command's output, with JSONPath " +
			"assertions. Changes nothing, and also runs in check mode.",
		Params:   assertParams,
		ReadOnly: true,
		New:      newAssertTask,
	})
}

// assertTask checks assertions against one document.
type assertTask struct {
	file   string
	cmd    string
	format string // "json" or "yaml"
	checks []assertion
}

// assertion is one item of that: a JSONPath and exactly one test.
type assertion struct {
	text   string // the path as written, for messages
	path   *yamlpath.Path
	op     string // "equals", "matches", "exists" or "count"
	equals any
	re     *regexp.Regexp
	exists bool
	count  int
}

func newAssertTask(args Args) (Task, error) {
	t := &assertTask{file: args.String("file"), cmd: args.String("cmd"), format: args.String("format")}
	if (t.file == "") == (t.cmd == "") {
		return nil, errors.New("give exactly one of file and cmd")
	}
	if t.file != "" {
		if err := CheckPath("file", t.file); err != nil {
			return nil, err
		}
	}
	if err := t.resolveFormat(); err != nil {
		return nil, err
	}

	items := args.List("that")
	if len(items) == 0 {
		return nil, errors.New("that: give at least one assertion")
	}
	for i, item := range items {
		a, err := parseAssertion(item)
		if err != nil {
			return nil, fmt.Errorf("that item %d: %w", i+1, err)
		}
		t.checks = append(t.checks, a)
	}
	return t, nil
}

func (t *assertTask) resolveFormat() error {
	switch {
	case t.format == "json" || t.format == "yaml":
		return nil
	case t.format != "":
		return fmt.Errorf("format %q: use json or yaml", t.format)
	case t.cmd != "" || strings.HasSuffix(t.file, ".json"):
		t.format = "json"
	default:
		t.format = "yaml"
	}
	return nil
}

// assertionOps are the tests an assertion can make.
var assertionOps = []string{"equals", "matches", "exists", "count"}

func parseAssertion(item any) (assertion, error) {
	m, ok := item.(map[string]any)
	if !ok {
		return assertion{}, fmt.Errorf("must be a mapping with path and one of %s",
			strings.Join(assertionOps, ", "))
	}
	for k := range m {
		if k != "path" && !containsString(assertionOps, k) {
			return assertion{}, fmt.Errorf("unknown key %q: use path and one of %s", k,
				strings.Join(assertionOps, ", "))
		}
	}

	a := assertion{}
	text, ok := m["path"].(string)
	if !ok || text == "" {
		return a, errors.New("missing path: give a JSONPath such as $.log-driver")
	}
	path, err := yamlpath.NewPath(text)
	if err != nil {
		return a, fmt.Errorf("invalid path %q: %w", text, err)
	}
	a.text, a.path = text, path

	if err := a.setOp(m); err != nil {
		return a, err
	}
	return a, nil
}

// setOp reads the one test of an assertion and checks its value's type.
func (a *assertion) setOp(m map[string]any) error {
	var ops []string
	for _, op := range assertionOps {
		if _, ok := m[op]; ok {
			ops = append(ops, op)
		}
	}
	if len(ops) != 1 {
		return fmt.Errorf("path %s: give exactly one of %s, not %d", a.text,
			strings.Join(assertionOps, ", "), len(ops))
	}

	a.op = ops[0]
	value := m[a.op]
	var ok bool
	switch a.op {
	case "equals":
		a.equals, ok = normalizeDecoded(value), true
	case "matches":
		return a.setMatches(value)
	case "exists":
		a.exists, ok = value.(bool)
	case "count":
		a.count, ok = value.(int)
		ok = ok && a.count >= 0
	}
	if !ok {
		return fmt.Errorf("path %s: invalid %s value %s", a.text, a.op, describeValue(value))
	}
	return nil
}

func (a *assertion) setMatches(value any) error {
	pattern, ok := value.(string)
	if !ok {
		return fmt.Errorf("path %s: matches must be a regular expression string, not %s",
			a.text, describeValue(value))
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("path %s: invalid regular expression %q: %w", a.text, pattern, err)
	}
	a.re = re
	return nil
}

func containsString(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

// Run reads the document and checks every assertion. It runs in check mode too, since it
// only reads.
func (t *assertTask) Run(ctx context.Context, env *Env) Outcome {
	doc, err := t.readDocument(ctx, env)
	if err != nil {
		return Failed(err)
	}

	var failures []string
	for _, a := range t.checks {
		if msg := a.check(doc); msg != "" {
			failures = append(failures, msg)
		}
	}
	if len(failures) > 0 {
		return Failed(fmt.Errorf("%d of %d %s failed: %s", len(failures), len(t.checks),
			plural(len(t.checks), "assertion", "assertions"), strings.Join(failures, "; ")))
	}
	return OK(fmt.Sprintf("%d %s passed", len(t.checks),
		plural(len(t.checks), "assertion", "assertions")))
}

// readDocument returns the parsed document, or nil when the file is missing and every
// assertion expects nothing to exist.
func (t *assertTask) readDocument(ctx context.Context, env *Env) (*yaml.Node, error) {
	var data []byte
	source := t.file
	if t.cmd != "" {
		res, err := env.Host.Run(ctx, t.cmd, nil)
		if err != nil {
			return nil, &remoteError{op: "run " + t.cmd, err: err}
		}
		if res.ExitCode != 0 {
			return nil, fmt.Errorf("run %s: exit status %d: %s", t.cmd, res.ExitCode,
				shorten(string(res.Stderr), 300))
		}
		data, source = res.Stdout, "output of "+t.cmd
	} else {
		f, err := readFileIfExists(ctx, env, t.file)
		if err != nil {
			return nil, err
		}
		if f == nil {
			return nil, t.missingFile()
		}
		data = f.Data
	}
	return parseDocument(data, t.format, source)
}

// missingFile returns nil when every assertion is "exists: false", which a missing file
// meets, and an error otherwise.
func (t *assertTask) missingFile() error {
	for _, a := range t.checks {
		if a.op != "exists" || a.exists {
			return fmt.Errorf("read %s: file not found", t.file)
		}
	}
	return nil
}

// parseDocument parses data as YAML, which JSON is a subset of. JSON is first checked
// strictly, so a broken JSON file is reported as JSON.
func parseDocument(data []byte, format, source string) (*yaml.Node, error) {
	if format == "json" {
		if _, err := decodeJSON(data); err != nil {
			return nil, fmt.Errorf("parse %s as JSON: %w", source, describeJSONError(data, err))
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s as YAML: %w", source, err)
	}
	return &doc, nil
}

// check returns "" when the assertion holds on doc, or a message naming the assertion
// and the value found. A nil doc is a missing file and matches nothing.
func (a *assertion) check(doc *yaml.Node) string {
	var nodes []*yaml.Node
	if doc != nil && doc.Kind != 0 {
		found, err := a.path.Find(doc)
		if err != nil {
			return fmt.Sprintf("%s: %v", a.text, err)
		}
		nodes = found
	}

	switch a.op {
	case "exists":
		if (len(nodes) > 0) != a.exists {
			return fmt.Sprintf("%s exists %t: found %s", a.text, a.exists, describeNodes(nodes))
		}
	case "count":
		if len(nodes) != a.count {
			return fmt.Sprintf("%s count %d: found %d", a.text, a.count, len(nodes))
		}
	case "equals":
		return a.checkEquals(nodes)
	case "matches":
		return a.checkMatches(nodes)
	}
	return ""
}

func (a *assertion) checkEquals(nodes []*yaml.Node) string {
	want := describeDecoded(a.equals)
	if len(nodes) == 0 {
		return fmt.Sprintf("%s equals %s: not found", a.text, want)
	}
	for _, n := range nodes {
		var got any
		if err := n.Decode(&got); err != nil {
			return fmt.Sprintf("%s equals %s: %v", a.text, want, err)
		}
		if !reflect.DeepEqual(normalizeDecoded(got), a.equals) {
			return fmt.Sprintf("%s equals %s: found %s", a.text, want, describeNodes(nodes))
		}
	}
	return ""
}

func (a *assertion) checkMatches(nodes []*yaml.Node) string {
	if len(nodes) == 0 {
		return fmt.Sprintf("%s matches %q: not found", a.text, a.re)
	}
	for _, n := range nodes {
		if n.Kind != yaml.ScalarNode || !a.re.MatchString(n.Value) {
			return fmt.Sprintf("%s matches %q: found %s", a.text, a.re, describeNodes(nodes))
		}
	}
	return ""
}

// normalizeDecoded makes values decoded from a playbook and from the document
// comparable: every integer becomes int, and mappings become map[string]any.
func normalizeDecoded(v any) any {
	switch x := v.(type) {
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = normalizeDecoded(item)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = normalizeDecoded(item)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[fmt.Sprint(k)] = normalizeDecoded(item)
		}
		return out
	}
	return v
}

// describeDecoded shows an expected value as one line of JSON, so 3 and "3" differ.
func describeDecoded(v any) string {
	raw, err := marshalJSON(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return shorten(string(raw), 80)
}

// describeNodes shows matched nodes on one line: one value, or a list of them.
func describeNodes(nodes []*yaml.Node) string {
	if len(nodes) == 0 {
		return "nothing"
	}
	values := make([]string, len(nodes))
	for i, n := range nodes {
		var v any
		if err := n.Decode(&v); err != nil {
			values[i] = n.Value
			continue
		}
		values[i] = describeDecoded(normalizeDecoded(v))
	}
	if len(values) == 1 {
		return values[0]
	}
	return shorten("["+strings.Join(values, ", ")+"]", 120)
}
