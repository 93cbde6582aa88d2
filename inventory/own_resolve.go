package inventory

import (
	"fmt"
	"reflect"
	"slices"
)

// ownHost is every listing of one host in a fleetharden inventory.
type ownHost struct {
	entries []*hostEntry
	groups  []*ownGroup // in file order, each once
	inGroup map[*ownGroup]bool
}

// resolve merges the listings of each host by the precedence of the fleetharden format:
// the top level, then the groups, then the host entries.
func (o *ownParser) resolve() []*hostRecord {
	hosts := make(map[string]*ownHost)
	var names []string
	add := func(e *hostEntry, g *ownGroup) {
		h := hosts[e.name]
		if h == nil {
			h = &ownHost{inGroup: make(map[*ownGroup]bool)}
			hosts[e.name] = h
			names = append(names, e.name)
		}
		h.entries = append(h.entries, e)
		if g != nil && !h.inGroup[g] {
			h.inGroup[g] = true
			h.groups = append(h.groups, g)
		}
	}

	for _, g := range o.groups {
		for _, e := range g.hosts {
			add(e, g)
		}
	}
	for _, e := range o.topHosts {
		add(e, nil)
	}

	records := make([]*hostRecord, 0, len(names))
	for _, name := range names {
		records = append(records, o.resolveHost(name, hosts[name]))
	}

	return records
}

func (o *ownParser) resolveHost(name string, h *ownHost) *hostRecord {
	slices.SortStableFunc(h.entries, func(a, b *hostEntry) int {
		return comparePositions(a.pos, b.pos)
	})

	var fromGroups connection
	var groupConflicts []conflict
	groupVars := make(variables)
	for _, g := range h.groups {
		groupConflicts = append(groupConflicts, fromGroups.merge(g.connection)...)
		o.mergeVariables(groupVars, g.vars)
	}

	var fromEntries connection
	entryVars := make(variables)
	for _, e := range h.entries {
		for _, c := range fromEntries.merge(e.connection) {
			o.d.addConflict(name, c, "keep one of the two values")
		}
		o.mergeVariables(entryVars, e.vars)
	}

	// A field set in the host entry settles a disagreement between its groups.
	for _, c := range groupConflicts {
		if !fromEntries.isSet(c.field) {
			o.d.addConflict(name, c, fmt.Sprintf("set %s in the host entry or give both "+
				"groups the same value", c.field))
		}
	}

	record := &hostRecord{name: name, pos: h.entries[0].pos, connection: o.fleet.connection}
	record.connection.override(fromGroups)
	record.connection.override(fromEntries)
	record.vars = overlay(o.fleet.vars, groupVars, entryVars)
	for _, g := range h.groups {
		record.groups = append(record.groups, g.name)
	}

	return record
}

// mergeVariables copies from into level, the values of from winning, and warns when two
// places at the same precedence level give one variable different values.
func (o *ownParser) mergeVariables(level, from variables) {
	for name, v := range from {
		earlier, ok := level[name]
		if ok && earlier.pos != v.pos && !reflect.DeepEqual(earlier.value, v.value) {
			key := fmt.Sprintf("variable %s %s %s", name, earlier.pos, v.pos)
			o.d.warnOnce(key, v.pos, "variable %s is also set at line %d, column %d to a "+
				"different value; hosts listed in both places get the value set here, "+
				"because it comes later in the file", name, earlier.pos.Line, earlier.pos.Column)
		}
		level[name] = v
	}
}

// overlay returns the variables of all levels merged, later levels winning per name.
func overlay(levels ...variables) variables {
	merged := make(variables)
	for _, level := range levels {
		for name, v := range level {
			merged[name] = v
		}
	}

	return merged
}
