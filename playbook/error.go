package playbook

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Position is a place in a playbook file.
type Position struct {
	File   string
	Line   int
	Column int
}

func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Error is a problem found in a playbook before any host is contacted.
type Error struct {
	Pos Position
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

func nodePos(file string, n *yaml.Node) Position {
	if n == nil {
		return Position{File: file}
	}
	return Position{File: file, Line: n.Line, Column: n.Column}
}

// errorList collects positioned errors in the order they are found.
type errorList struct {
	file string
	errs []error
}

func (l *errorList) add(n *yaml.Node, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: nodePos(l.file, n), Msg: fmt.Sprintf(format, args...)})
}
