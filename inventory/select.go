package inventory

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// ErrNoMatch is wrapped by the errors of Select for a pattern or a whole limit that
// selects no hosts.
var ErrNoMatch = errors.New("no hosts matched")

// patternTerm is one pattern of a limit with its operator: '+' adds the hosts it
// matches, '&' keeps only those, and '!' removes them.
type patternTerm struct {
	operator byte
	pattern  string
}

// Select returns the hosts that limit selects, in inventory order. The limit is written as
// Ansible writes --limit: patterns separated by commas, or by colons if it contains no
// comma. Each pattern is a group name, a host name or a glob (path.Match syntax) over
// both. A pattern prefixed with '&' keeps only the hosts it also matches, and one prefixed
// with '!' removes the hosts it matches. As in Ansible, the plain patterns apply first,
// then the '&' ones, then the '!' ones. "" and "all" select every host.
//
// A pattern that matches nothing is an error that wraps ErrNoMatch and lists similar
// names, and so is a limit that selects no hosts in the end.
func (inv *Inventory) Select(limit string) ([]*Host, error) {
	terms := inv.splitLimit(limit)
	if len(terms) == 0 {
		return slices.Clone(inv.Hosts), nil
	}

	selected := make(map[*Host]bool)
	var errs []error
	for _, t := range orderTerms(terms) {
		matched, err := inv.match(t.pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("select %q: %w", limit, err))
			continue
		}
		applyTerm(selected, t.operator, matched)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	var hosts []*Host
	for _, host := range inv.Hosts {
		if selected[host] {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("select %q: %w after applying the & and ! patterns",
			limit, ErrNoMatch)
	}

	return hosts, nil
}

// splitLimit splits a limit into its patterns. It splits at colons only when the limit has
// no comma and is not itself the name of a host or group, so that IPv6 addresses used as
// host names still work.
func (inv *Inventory) splitLimit(limit string) []patternTerm {
	limit = strings.TrimSpace(limit)

	var parts []string
	switch {
	case strings.Contains(limit, ","):
		parts = strings.Split(limit, ",")
	case inv.isName(strings.TrimLeft(limit, "!&")):
		parts = []string{limit}
	default:
		parts = strings.Split(limit, ":")
	}

	var terms []patternTerm
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t := patternTerm{operator: '+', pattern: part}
		if part[0] == '!' || part[0] == '&' {
			t = patternTerm{operator: part[0], pattern: strings.TrimSpace(part[1:])}
		}
		terms = append(terms, t)
	}

	return terms
}

func (inv *Inventory) isName(name string) bool {
	if _, ok := inv.Groups[name]; ok {
		return true
	}

	return slices.ContainsFunc(inv.Hosts, func(h *Host) bool { return h.Name == name })
}

// orderTerms puts the plain patterns first, then the '&' patterns, then the '!' patterns.
// A limit of only '&' and '!' patterns starts from all hosts.
func orderTerms(terms []patternTerm) []patternTerm {
	var ordered []patternTerm
	for _, operator := range []byte{'+', '&', '!'} {
		for _, t := range terms {
			if t.operator == operator {
				ordered = append(ordered, t)
			}
		}
	}
	if ordered[0].operator != '+' {
		ordered = append([]patternTerm{{operator: '+', pattern: allGroup}}, ordered...)
	}

	return ordered
}

func applyTerm(selected map[*Host]bool, operator byte, matched []*Host) {
	switch operator {
	case '+':
		for _, host := range matched {
			selected[host] = true
		}
	case '&':
		keep := make(map[*Host]bool, len(matched))
		for _, host := range matched {
			keep[host] = true
		}
		for host := range selected {
			if !keep[host] {
				delete(selected, host)
			}
		}
	case '!':
		for _, host := range matched {
			delete(selected, host)
		}
	}
}

// match returns the hosts that one pattern matches: the hosts of the group of that name,
// else the host of that name, else the hosts whose name or group matches it as a glob.
func (inv *Inventory) match(pattern string) ([]*Host, error) {
	if pattern == "" {
		return nil, fmt.Errorf("empty pattern after '!' or '&'; write a host or group name")
	}
	if strings.HasPrefix(pattern, "~") {
		return nil, fmt.Errorf("pattern %q: regular expressions are not supported; "+
			"use a glob such as web*", pattern)
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("pattern %q: invalid glob: %w", pattern, err)
	}

	if members, ok := inv.Groups[pattern]; ok {
		if len(members) == 0 {
			return nil, fmt.Errorf("pattern %q: %w: the group is empty", pattern, ErrNoMatch)
		}
		return inv.hostsNamed(members), nil
	}

	var matched []*Host
	for _, host := range inv.Hosts {
		if host.Name == pattern || inv.globMatches(pattern, host) {
			matched = append(matched, host)
		}
	}
	if len(matched) == 0 {
		return nil, inv.noMatch(pattern)
	}

	return matched, nil
}

// globMatches reports whether pattern matches the name of host or of one of its groups.
// The pattern has been checked, so path.Match returns no error.
func (inv *Inventory) globMatches(pattern string, host *Host) bool {
	if ok, _ := path.Match(pattern, host.Name); ok {
		return true
	}

	return slices.ContainsFunc(host.Groups, func(group string) bool {
		ok, _ := path.Match(pattern, group)
		return ok
	})
}

func (inv *Inventory) hostsNamed(names []string) []*Host {
	isMember := make(map[string]bool, len(names))
	for _, name := range names {
		isMember[name] = true
	}

	var hosts []*Host
	for _, host := range inv.Hosts {
		if isMember[host.Name] {
			hosts = append(hosts, host)
		}
	}

	return hosts
}

func (inv *Inventory) noMatch(pattern string) error {
	var names []string
	for _, host := range inv.Hosts {
		names = append(names, host.Name)
	}
	for group := range inv.Groups {
		names = append(names, group)
	}
	slices.Sort(names)
	names = slices.Compact(names)

	near := nearest(pattern, names, 3, true)
	if len(near) == 0 {
		return fmt.Errorf("pattern %q: %w", pattern, ErrNoMatch)
	}

	return fmt.Errorf("pattern %q: %w; similar names: %s", pattern, ErrNoMatch,
		strings.Join(near, ", "))
}
