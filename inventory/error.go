package inventory

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// maxErrors is the number of errors Parse returns before it summarizes the rest, so that a
// badly broken file of thousands of hosts still gives a readable report.
const maxErrors = 100

// Position is a place in an inventory file. Line and Column count from 1, and 0 means that
// the place is unknown.
type Position struct {
	File   string
	Line   int
	Column int
}

// String formats the position as file:line:column and leaves out the parts that are
// unknown.
func (p Position) String() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
	}
	if p.Line > 0 && p.Column > 0 {
		s += ":" + strconv.Itoa(p.Column)
	}

	return s
}

// comparePositions orders positions by line, then column, for sorting.
func comparePositions(a, b Position) int {
	if a.Line != b.Line {
		return a.Line - b.Line
	}

	return a.Column - b.Column
}

// Error is a problem in an inventory file.
type Error struct {
	Pos   Position // place of the problem
	Value string   // offending text: a key, a value or a name, empty if there is none
	Msg   string   // what is wrong and how to fix it
}

// Error formats the problem as "file:line:col: msg".
func (e *Error) Error() string {
	return e.Pos.String() + ": " + e.Msg
}

// problems collects the errors and warnings found while reading one file.
type problems struct {
	file     string
	errs     []*Error
	warnings []warning
	warned   map[string]bool
}

// warning is a message about a setting that was read but may not mean what its author
// expected, or was ignored.
type warning struct {
	pos Position
	msg string
}

func (p *problems) addError(pos Position, value, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: pos, Value: value, Msg: fmt.Sprintf(format, args...)})
}

// warnOnce records a warning unless one with the same key was recorded before, so that a
// setting repeated on every host is reported once.
func (p *problems) warnOnce(key string, pos Position, format string, args ...any) {
	if p.warned == nil {
		p.warned = make(map[string]bool)
	}
	if p.warned[key] {
		return
	}
	p.warned[key] = true

	p.warnings = append(p.warnings, warning{pos: pos, msg: fmt.Sprintf(format, args...)})
}

// warningMessages returns the warnings sorted by position, each as "file:line:col: msg".
func (p *problems) warningMessages() []string {
	sorted := slices.Clone(p.warnings)
	slices.SortStableFunc(sorted, func(a, b warning) int { return comparePositions(a.pos, b.pos) })

	var messages []string
	for _, w := range sorted {
		messages = append(messages, w.pos.String()+": "+w.msg)
	}

	return messages
}

// err returns the collected errors sorted by position, without repeats, joined with
// errors.Join, or nil if there are none. Repeats come from YAML aliases, which make
// the parser visit the same node more than once.
func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}

	var sorted []*Error
	seen := make(map[Error]bool)
	for _, e := range p.errs {
		if !seen[*e] {
			seen[*e] = true
			sorted = append(sorted, e)
		}
	}
	slices.SortStableFunc(sorted, func(a, b *Error) int {
		return comparePositions(a.Pos, b.Pos)
	})

	var joined []error
	for i, e := range sorted {
		if i == maxErrors {
			msg := fmt.Sprintf("%d more errors not shown; fix the ones above first",
				len(sorted)-i)
			joined = append(joined, &Error{Pos: Position{File: p.file}, Msg: msg})
			break
		}
		joined = append(joined, e)
	}

	return errors.Join(joined...)
}

// hasErrors reports whether any error was collected.
func (p *problems) hasErrors() bool {
	return len(p.errs) > 0
}
