package tasks

import (
	"fmt"
	"sort"
	"time"
)

// Type is the type of a task parameter, checked before any host is contacted.
type Type string

// The parameter types.
const (
	TypeString     Type = "string"
	TypeInt        Type = "int"
	TypeBool       Type = "bool"
	TypeDuration   Type = "duration" // "90s", "2m" or a number of seconds
	TypeStringList Type = "list of strings"
	TypeMap        Type = "mapping"
	TypeList       Type = "list"
)

// Param describes one argument of a task kind.
type Param struct {
	Name     string
	Type     Type
	Required bool
	Default  any // used when the argument is absent; nil for none
	Doc      string
	// Shell marks a string that runs as a shell command. A template inside other text
	// then expands to its value quoted as one shell word.
	Shell bool
}

// Args are a task's arguments after variables were expanded and types checked: strings are
// string, ints int, bools bool, durations time.Duration, string lists []string, mappings
// map[string]any and lists []any.
type Args map[string]any

// String returns the string argument name, or "".
func (a Args) String(name string) string { s, _ := a[name].(string); return s }

// Int returns the int argument name, or 0.
func (a Args) Int(name string) int { n, _ := a[name].(int); return n }

// Bool returns the bool argument name, or false.
func (a Args) Bool(name string) bool { b, _ := a[name].(bool); return b }

// Duration returns the duration argument name, or 0.
func (a Args) Duration(name string) time.Duration { d, _ := a[name].(time.Duration); return d }

// Strings returns the string list argument name, or nil.
func (a Args) Strings(name string) []string { s, _ := a[name].([]string); return s }

// Map returns the mapping argument name, or nil.
func (a Args) Map(name string) map[string]any { m, _ := a[name].(map[string]any); return m }

// List returns the list argument name, or nil.
func (a Args) List(name string) []any { l, _ := a[name].([]any); return l }

// Has reports whether the argument name was given or has a default.
func (a Args) Has(name string) bool { _, ok := a[name]; return ok }

// Kind is a kind of task: its name in playbooks, its parameters and its constructor.
type Kind struct {
	Name   string
	Doc    string
	Params []Param
	// ReadOnly marks a kind that only inspects the host, such as a check of running
	// containers. Its failure marks the host failed but rolls nothing back, since undoing
	// earlier changes would not fix what it found.
	ReadOnly bool
	// Opaque marks a kind whose task may change the host whatever status it reports, such
	// as a shell command. After such a task runs, the runner drops the reads of the host
	// that tasks share (Env.Memo).
	Opaque bool
	// New builds a task from checked arguments. It returns an error for a combination of
	// values that is invalid, such as a daemon setting of the wrong type. The playbook
	// reader reports that error at the task's position.
	New func(args Args) (Task, error)
}

// Param returns the parameter called name, or false.
func (k *Kind) Param(name string) (Param, bool) {
	for _, p := range k.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

var registry = map[string]*Kind{}

// Register adds a kind. It panics on a duplicate name, since kinds register at init time.
func Register(k *Kind) {
	if _, dup := registry[k.Name]; dup {
		panic(fmt.Sprintf("tasks: kind %q registered twice", k.Name))
	}
	registry[k.Name] = k
}

// Lookup returns the kind called name.
func Lookup(name string) (*Kind, bool) {
	k, ok := registry[name]
	return k, ok
}

// Kinds returns the names of all registered kinds, sorted.
func Kinds() []string {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
