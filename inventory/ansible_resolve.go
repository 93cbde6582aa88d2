package inventory

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// hierarchy is the group tree of an Ansible inventory with the edges that close cycles
// removed, so that every group has a depth below "all".
type hierarchy struct {
	groups    map[string]*ansibleGroup
	parents   map[string][]string
	depths    map[string]int
	ancestors map[string]map[string]bool
}

// resolve merges the settings of each host by Ansible's precedence: "all", then the other
// groups by depth, ansible_group_priority and name, then the host entries in file order.
func (a *ansibleParser) resolve() []*hostRecord {
	a.markCycles()
	h := newHierarchy(a.groups)

	records := make([]*hostRecord, 0, len(a.listed))
	for _, name := range a.listed {
		records = append(records, a.resolveHost(a.hosts[name], h))
	}

	return records
}

// markCycles marks the child edges that make a group its own ancestor and records an error
// for each.
func (a *ansibleParser) markCycles() {
	const (
		unvisited = iota
		onPath
		finished
	)
	state := make(map[string]int)
	var path []string

	var visit func(name string)
	visit = func(name string) {
		state[name] = onPath
		path = append(path, name)
		for _, e := range a.groups[name].children {
			switch state[e.child] {
			case onPath:
				e.back = true
				a.reportCycle(path, e)
			case unvisited:
				visit(e.child)
			}
		}
		path = path[:len(path)-1]
		state[name] = finished
	}

	for _, name := range a.order {
		if state[name] == unvisited {
			visit(name)
		}
	}
}

func (a *ansibleParser) reportCycle(path []string, e *groupEdge) {
	start := slices.Index(path, e.child)
	cycle := append(slices.Clone(path[start:]), e.child)
	parent := path[len(path)-1]

	a.d.addError(e.pos, e.child, "group %s is its own ancestor (%s); remove it from the "+
		"children of %s", e.child, strings.Join(cycle, " > "), parent)
}

func newHierarchy(groups map[string]*ansibleGroup) *hierarchy {
	h := &hierarchy{
		groups:    groups,
		parents:   make(map[string][]string),
		depths:    map[string]int{allGroup: 0},
		ancestors: map[string]map[string]bool{allGroup: {}},
	}

	for name, g := range groups {
		for _, e := range g.children {
			if !e.back {
				h.parents[e.child] = append(h.parents[e.child], name)
			}
		}
	}

	return h
}

// depth returns the length of the longest path from "all" down to the group, which is how
// Ansible orders groups when it merges their variables.
func (h *hierarchy) depth(name string) int {
	if depth, ok := h.depths[name]; ok {
		return depth
	}

	depth := 1
	for _, parent := range h.parents[name] {
		depth = max(depth, h.depth(parent)+1)
	}
	h.depths[name] = depth

	return depth
}

// ancestorsOf returns the set of groups above the named group, "all" included.
func (h *hierarchy) ancestorsOf(name string) map[string]bool {
	if ancestors, ok := h.ancestors[name]; ok {
		return ancestors
	}

	found := map[string]bool{allGroup: true}
	for _, parent := range h.parents[name] {
		found[parent] = true
		for ancestor := range h.ancestorsOf(parent) {
			found[ancestor] = true
		}
	}
	h.ancestors[name] = found

	return found
}

// memberships returns the groups that contain a host listed directly in direct, sorted in
// the order in which their variables apply. "all" comes first. A host in no other group is
// in "ungrouped", and a host in other groups is never in it, as in Ansible.
func (h *hierarchy) memberships(direct []string) []string {
	member := map[string]bool{allGroup: true}
	add := func(name string) {
		member[name] = true
		for ancestor := range h.ancestorsOf(name) {
			member[ancestor] = true
		}
	}
	for _, name := range direct {
		add(name)
	}

	delete(member, ungroupedGroup)
	if _, ok := h.groups[ungroupedGroup]; ok && len(member) == 1 {
		add(ungroupedGroup)
	}

	names := slices.Collect(maps.Keys(member))
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(
			cmp.Compare(h.depth(x), h.depth(y)),
			cmp.Compare(h.groups[x].priority, h.groups[y].priority),
			strings.Compare(x, y),
		)
	})

	return names
}

func (a *ansibleParser) resolveHost(host *ansibleHost, h *hierarchy) *hostRecord {
	groups := h.memberships(host.groups)
	slices.SortStableFunc(host.entries, func(x, y *hostEntry) int {
		return comparePositions(x.pos, y.pos)
	})

	record := &hostRecord{name: host.name, pos: host.entries[0].pos}
	var groupVars []variables
	for _, name := range groups {
		record.connection.override(a.groups[name].connection)
		groupVars = append(groupVars, a.groups[name].vars)
		if name != allGroup {
			record.groups = append(record.groups, name)
		}
	}

	var fromEntries connection
	for _, e := range host.entries {
		for _, c := range fromEntries.merge(e.connection) {
			a.d.addConflict(host.name, c, "keep one of the two values")
		}
		groupVars = append(groupVars, e.vars)
	}
	record.connection.override(fromEntries)
	record.vars = overlay(groupVars...)

	return record
}
