package inventory

import (
	"fmt"
)

// setting is the value of one connection field at one place in the file.
type setting[T comparable] struct {
	value T
	set   bool
	pos   Position
	owner string // place that set it, such as "group web", for error messages
}

// connection is the set of connection fields that one place in the file sets.
type connection struct {
	address setting[string]
	port    setting[int]
	user    setting[string]
	key     setting[string]
	become  setting[bool]
}

// conflict is a connection field set to two different values at the same precedence level.
type conflict struct {
	field          string
	first, second  string // values, formatted for messages
	secondText     string // second value as written, for Error.Value
	firstPosition  Position
	secondPosition Position
	firstOwner     string
	secondOwner    string
}

// override replaces the fields of c that from sets.
func (c *connection) override(from connection) {
	overrideSetting(&c.address, from.address)
	overrideSetting(&c.port, from.port)
	overrideSetting(&c.user, from.user)
	overrideSetting(&c.key, from.key)
	overrideSetting(&c.become, from.become)
}

func overrideSetting[T comparable](into *setting[T], from setting[T]) {
	if from.set {
		*into = from
	}
}

// merge copies the fields that from sets into c and returns a conflict for each field that
// both set to different values. c keeps its own value in a conflict.
func (c *connection) merge(from connection) []conflict {
	found := []*conflict{
		mergeSetting("address", &c.address, from.address),
		mergeSetting("port", &c.port, from.port),
		mergeSetting("user", &c.user, from.user),
		mergeSetting("key", &c.key, from.key),
		mergeSetting("become", &c.become, from.become),
	}

	var conflicts []conflict
	for _, f := range found {
		if f != nil {
			conflicts = append(conflicts, *f)
		}
	}

	return conflicts
}

func mergeSetting[T comparable](field string, into *setting[T], from setting[T]) *conflict {
	if !from.set {
		return nil
	}
	if !into.set {
		*into = from
		return nil
	}
	if into.value == from.value {
		return nil
	}

	return &conflict{
		field:          field,
		first:          fmt.Sprintf("%#v", into.value),
		second:         fmt.Sprintf("%#v", from.value),
		secondText:     fmt.Sprint(from.value),
		firstPosition:  into.pos,
		secondPosition: from.pos,
		firstOwner:     into.owner,
		secondOwner:    from.owner,
	}
}

// isSet reports whether c sets the named field.
func (c *connection) isSet(field string) bool {
	switch field {
	case "address":
		return c.address.set
	case "port":
		return c.port.set
	case "user":
		return c.user.set
	case "key":
		return c.key.set
	default:
		return c.become.set
	}
}

// addConflict records a conflict for host as an error at the second place, naming the first
// and what to do.
func (d *document) addConflict(host string, c conflict, fix string) {
	d.addError(c.secondPosition, c.secondText, "host %s: %s %s from %s conflicts with %s from "+
		"%s at line %d, column %d; %s", host, c.field, c.second, c.secondOwner, c.first,
		c.firstOwner, c.firstPosition.Line, c.firstPosition.Column, fix)
}
