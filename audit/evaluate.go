package audit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Result is the verdict of one control on one host.
type Result struct {
	ID          string     `json:"id"`
	CIS         []string   `json:"cis"`
	Title       string     `json:"title"`
	Section     string     `json:"section"`
	Severity    Verdict    `json:"severity"`
	Verdict     Verdict    `json:"verdict"`
	Evidence    []Evidence `json:"evidence"`
	Remediation string     `json:"remediation"`
	// Containers are the verdicts of a container control, one per running container.
	// The host's verdict is the worst of them, or not_applicable without containers.
	Containers []ContainerResult `json:"containers,omitempty"`
}

// ContainerResult is the verdict of a container control on one container.
type ContainerResult struct {
	Name     string     `json:"name"`
	ID       string     `json:"id"`
	Image    string     `json:"image"`
	Verdict  Verdict    `json:"verdict"`
	Evidence []Evidence `json:"evidence"`
}

// Evidence is the value that a JSONPath expression found in the state. An expression
// with a filter, a wildcard or a recursive descent gives a list of what it found. Any
// other gives the value it found, or null when it found nothing.
type Evidence struct {
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Evaluate decides every control on the state of one host, in the order of controls.
func Evaluate(controls []*Control, state *State) ([]Result, error) {
	root, err := stateNode(state)
	if err != nil {
		return nil, err
	}

	results := make([]Result, 0, len(controls))
	for _, c := range controls {
		r := Result{ID: c.ID, CIS: nonNil(c.CIS), Title: c.Title, Section: c.Section,
			Severity: c.Severity, Remediation: c.Remediation, Evidence: []Evidence{}}
		if c.Section == SectionContainer {
			c.decideContainers(&r, root, state.Containers)
		} else {
			r.Verdict, r.Evidence = c.decide(root)
		}
		results = append(results, r)
	}
	return results, nil
}

// stateNode returns the state as a YAML node, which JSONPath expressions search.
func stateNode(state *State) (*yaml.Node, error) {
	data, err := json.Marshal(state)
	if err != nil {
		return nil, fmt.Errorf("encode the state: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode the state: %w", err)
	}
	return doc.Content[0], nil
}

// decide returns the control's verdict on the state at root, with its evidence.
func (c *Control) decide(root *yaml.Node) (Verdict, []Evidence) {
	evidence := c.collectEvidence(root)
	switch {
	case c.appliesIf != nil && !c.appliesIf.satisfied(root):
		return NotApplicable, evidence
	case c.expect.satisfied(root):
		return Pass, evidence
	}
	return c.Severity, evidence
}

// decideContainers decides a container control once per container, each with the
// container at $.container, and sets the host's verdict to the worst of them.
func (c *Control) decideContainers(r *Result, root *yaml.Node, containers []Container) {
	r.Verdict = NotApplicable
	r.Containers = []ContainerResult{}
	list := mappingValue(root, "containers")
	for i, ctr := range containers {
		if list == nil || i >= len(list.Content) {
			break
		}
		verdict, evidence := c.decide(withContainer(root, list.Content[i]))
		r.Containers = append(r.Containers, ContainerResult{Name: ctr.Name, ID: ctr.ID,
			Image: ctr.Image, Verdict: verdict, Evidence: evidence})
		r.Verdict = Worse(r.Verdict, verdict)
	}
}

// withContainer returns a copy of the root mapping with the key "container" added.
func withContainer(root, container *yaml.Node) *yaml.Node {
	copied := *root
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "container"}
	copied.Content = append(append([]*yaml.Node(nil), root.Content...), key, container)
	return &copied
}

// mappingValue returns the value of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// collectEvidence returns the values of the evidence paths, or of the paths that
// expect reads when the control names none.
func (c *Control) collectEvidence(root *yaml.Node) []Evidence {
	paths := c.evidence
	if paths == nil {
		paths = c.expect.jsonPaths()
	}
	evidence := make([]Evidence, 0, len(paths))
	for _, p := range paths {
		values := p.find(root)
		e := Evidence{Path: p.text}
		switch {
		case p.multi:
			e.Value = values
		case len(values) == 1:
			e.Value = values[0]
		case len(values) > 1:
			e.Value = values
		}
		evidence = append(evidence, e)
	}
	return evidence
}

// Summary returns the evidence of a result on one line. For a container control it
// names each container that failed or warned, with its evidence.
func (r Result) Summary() string {
	if r.Section != SectionContainer {
		return formatEvidence(r.Evidence)
	}
	if len(r.Containers) == 0 {
		return "no running containers"
	}

	var parts []string
	passed := 0
	for _, c := range r.Containers {
		switch c.Verdict {
		case Fail, Warn:
			parts = append(parts, c.Name+": "+formatEvidence(c.Evidence))
		case Pass:
			passed++
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("%d of %d containers pass", passed, len(r.Containers))
	}
	return strings.Join(parts, "; ")
}

// filterRE matches the filter of a JSONPath expression, which formatEvidence shortens.
var filterRE = regexp.MustCompile(`\[\?\(.*\)\]`)

// formatEvidence writes evidence as path=value pairs, values as compact JSON. The paths
// lose "$." or "$.container." and have their filters written "[?]".
func formatEvidence(evidence []Evidence) string {
	parts := make([]string, 0, len(evidence))
	for _, e := range evidence {
		path := strings.TrimPrefix(e.Path, "$.container.")
		path = strings.TrimPrefix(path, "$.")
		path = filterRE.ReplaceAllString(path, "[?]")
		value, err := json.Marshal(e.Value)
		if err != nil {
			value = []byte(fmt.Sprint(e.Value))
		}
		parts = append(parts, path+"="+string(value))
	}
	return strings.Join(parts, ", ")
}
