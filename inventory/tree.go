package inventory

import (
	"gopkg.in/yaml.v3"
)

// aliasNodeLimit is the maximum number of nodes that aliases, merge keys included, may add
// to a document when expanded. Without a limit, a few lines of nested aliases expand to
// billions of nodes. Hand-written inventories stay far below the limit.
const aliasNodeLimit = 200_000

// treeChecker checks a YAML tree for what the parsers rely on: mapping keys that are
// scalars and unique, valid merge keys, and aliases that neither contain themselves nor
// expand past aliasNodeLimit.
type treeChecker struct {
	d      *document
	sizes  map[*yaml.Node]int  // expanded size of each node visited, capped
	active map[*yaml.Node]bool // nodes whose size is being computed
	added  int                 // nodes added by the aliases visited so far
	fatal  bool                // an alias is recursive or the limit was passed
}

// checkTree records the problems of the tree under root and reports whether the parsers
// can walk it. Duplicate keys leave it walkable, while recursive aliases and aliases past
// the size limit do not.
func checkTree(d *document, root *yaml.Node) bool {
	c := &treeChecker{
		d:      d,
		sizes:  make(map[*yaml.Node]int),
		active: make(map[*yaml.Node]bool),
	}
	c.walk(root)

	return !c.fatal
}

func (c *treeChecker) walk(n *yaml.Node) {
	if c.fatal {
		return
	}

	switch n.Kind {
	case yaml.AliasNode:
		c.checkAlias(n)
	case yaml.MappingNode:
		c.checkKeys(n)
	}

	for _, child := range n.Content {
		c.walk(child)
	}
}

func (c *treeChecker) checkAlias(n *yaml.Node) {
	size, ok := c.size(n)
	if !ok {
		c.fatal = true
		c.d.addError(c.d.pos(n), n.Value, "alias *%s is inside the node it refers to; "+
			"YAML aliases must not contain themselves", n.Value)
		return
	}

	c.added += size
	if c.added > aliasNodeLimit {
		c.fatal = true
		c.d.addError(c.d.pos(n), n.Value, "aliases expand to more than %d YAML nodes; "+
			"write the repeated settings out or nest fewer aliases", aliasNodeLimit)
	}
}

// size returns the number of nodes in n with aliases expanded, capped at one more than
// aliasNodeLimit. It returns false if an alias inside n refers to a node that contains it.
func (c *treeChecker) size(n *yaml.Node) (int, bool) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1, true
		}
		return c.size(n.Alias)
	}
	if size, ok := c.sizes[n]; ok {
		return size, true
	}
	if c.active[n] {
		return 0, false
	}

	c.active[n] = true
	total := 1
	for _, child := range n.Content {
		size, ok := c.size(child)
		if !ok {
			return 0, false
		}
		total = min(total+size, aliasNodeLimit+1)
	}
	delete(c.active, n)
	c.sizes[n] = total

	return total, true
}

// checkKeys records keys that are not scalars, keys repeated in one mapping and merge keys
// whose value is not a mapping or a list of mappings. An empty key and a null key (~)
// count as the same key, because both are an empty name.
func (c *treeChecker) checkKeys(n *yaml.Node) {
	first := make(map[string]*yaml.Node)

	for i := 0; i+1 < len(n.Content); i += 2 {
		key := resolve(n.Content[i])
		switch {
		case key.Kind != yaml.ScalarNode:
			c.d.addError(c.d.pos(key), "", "a mapping key must be a plain string, "+
				"got %s", describe(key))
		case key.ShortTag() == "!!merge":
			c.checkMerge(n.Content[i+1])
		case first[keyName(key)] != nil:
			earlier := first[keyName(key)]
			c.d.addError(c.d.pos(key), key.Value, "duplicate key %q: it is already defined "+
				"at line %d, column %d of this mapping; remove or rename one of them",
				key.Value, earlier.Line, earlier.Column)
		default:
			first[keyName(key)] = key
		}
	}
}

func (c *treeChecker) checkMerge(value *yaml.Node) {
	value = resolve(value)
	if value.Kind == yaml.MappingNode {
		return
	}

	valid := value.Kind == yaml.SequenceNode
	for _, item := range value.Content {
		valid = valid && resolve(item).Kind == yaml.MappingNode
	}
	if !valid {
		c.d.addError(c.d.pos(value), value.Value, "the value of a merge key (<<) must be "+
			"a mapping or a list of mappings, got %s", describe(value))
	}
}
