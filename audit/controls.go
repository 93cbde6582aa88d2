package audit

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Verdict is the outcome of a control on a host or a container.
type Verdict string

// The verdicts, from best to worst as Worse orders them.
const (
	NotApplicable Verdict = "not_applicable"
	Pass          Verdict = "pass"
	Warn          Verdict = "warn"
	Fail          Verdict = "fail"
)

// rank orders the verdicts from best to worst.
func (v Verdict) rank() int {
	return slices.Index([]Verdict{NotApplicable, Pass, Warn, Fail}, v)
}

// Worse returns the worse of two verdicts.
func Worse(a, b Verdict) Verdict {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// The sections of the controls. Controls of SectionContainer are decided once for each
// running container.
const (
	SectionDaemon    = "daemon"
	SectionFiles     = "files"
	SectionContainer = "container"
)

// Control is one check of the audit, as a controls file defines it.
type Control struct {
	ID          string   `json:"id"`
	CIS         []string `json:"cis"` // numbers in the CIS Docker Benchmark v1.6.0
	Title       string   `json:"title"`
	Section     string   `json:"section"`
	Severity    Verdict  `json:"severity"` // the verdict when expect does not hold
	Remediation string   `json:"remediation"`
	Pos         Position `json:"-"` // position of the definition, or of the last override

	appliesIf condition // nil when the control always applies
	expect    condition
	evidence  []jsonPath // nil means the paths of expect

	// set lists the fields the file gave, which an override replaces.
	set map[string]bool
}

//go:embed controls.yaml
var defaultControlsYAML []byte

// DefaultControls returns the built-in controls, those of controls.yaml.
func DefaultControls() ([]*Control, error) {
	defs, err := ParseControls("controls.yaml", defaultControlsYAML)
	if err != nil {
		return nil, fmt.Errorf("built-in controls: %w", err)
	}
	return Merge(nil, defs)
}

// LoadControls reads the controls file at path. The controls it returns may be partial:
// Merge completes them from the controls they override.
func LoadControls(path string) ([]*Control, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read controls: %w", err)
	}
	return ParseControls(path, data)
}

// Merge returns base with overrides applied in order. An override whose id is in base
// replaces the fields it sets and keeps the others. Any other override is a new control,
// added at the end, and must set every required field.
func Merge(base, overrides []*Control) ([]*Control, error) {
	out := make([]*Control, 0, len(base)+len(overrides))
	index := map[string]int{}
	for _, c := range base {
		index[c.ID] = len(out)
		out = append(out, c)
	}

	var errs []error
	for _, o := range overrides {
		if i, ok := index[o.ID]; ok {
			out[i] = out[i].overriddenBy(o)
			continue
		}
		if err := o.checkComplete(); err != nil {
			errs = append(errs, err)
			continue
		}
		index[o.ID] = len(out)
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// overriddenBy returns a copy of c with the fields that o sets.
func (c *Control) overriddenBy(o *Control) *Control {
	merged := *c
	merged.Pos = o.Pos
	for field := range o.set {
		switch field {
		case "cis":
			merged.CIS = o.CIS
		case "title":
			merged.Title = o.Title
		case "section":
			merged.Section = o.Section
		case "severity":
			merged.Severity = o.Severity
		case "remediation":
			merged.Remediation = o.Remediation
		case "applies_if":
			merged.appliesIf = o.appliesIf
		case "expect":
			merged.expect = o.expect
		case "evidence":
			merged.evidence = o.evidence
		}
	}
	return &merged
}

// requiredFields are the fields a new control must set.
var requiredFields = []string{"title", "section", "severity", "expect", "remediation"}

// checkComplete returns an error naming the required fields that c does not set.
func (c *Control) checkComplete() error {
	var missing []string
	for _, f := range requiredFields {
		if !c.set[f] {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &Error{Pos: c.Pos, Msg: fmt.Sprintf("control %s: missing %s: a control that "+
		"overrides no built-in one needs %s", c.ID, strings.Join(missing, ", "),
		strings.Join(requiredFields, ", "))}
}

// Skip returns controls without those whose ids are listed. An id that no control has is
// an error, so that a typing mistake does not silently audit more than intended.
func Skip(controls []*Control, ids []string) ([]*Control, error) {
	skip := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !slices.ContainsFunc(controls, func(c *Control) bool { return c.ID == id }) {
			return nil, fmt.Errorf("skip %q: no control has this id; "+
				"fleetharden audit --list-controls lists them", id)
		}
		skip[id] = true
	}
	return slices.DeleteFunc(slices.Clone(controls), func(c *Control) bool {
		return skip[c.ID]
	}), nil
}

// Position is a place in a controls file. Line and Column count from 1.
type Position struct {
	File   string
	Line   int
	Column int
}

// String formats the position as file:line:column.
func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is a problem in a controls file.
type Error struct {
	Pos Position
	Msg string
}

// Error formats the problem as "file:line:col: msg".
func (e *Error) Error() string {
	return e.Pos.String() + ": " + e.Msg
}
