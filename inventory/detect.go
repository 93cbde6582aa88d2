package inventory

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// format is an inventory file format.
type format int

const (
	formatUnknown format = iota
	formatOwn            // the fleetharden format
	formatAnsible        // Ansible's YAML inventory format
)

// ansibleGroupKeys are the keys of a group in an Ansible inventory.
var ansibleGroupKeys = []string{"hosts", "children", "vars"}

// topLevelKeys is the top-level keys of an inventory, sorted for format detection.
type topLevelKeys struct {
	hasAll    bool
	own       []pair // fleetharden keys
	other     []pair // keys that are not fleetharden keys
	groupLike []pair // keys whose values look like Ansible groups
}

func classifyKeys(root *yaml.Node) topLevelKeys {
	var keys topLevelKeys
	for _, p := range entries(root) {
		switch {
		case p.name == allGroup:
			keys.hasAll = true
		case slices.Contains(fleetKeys, p.name):
			keys.own = append(keys.own, p)
		default:
			keys.other = append(keys.other, p)
		}
		if looksLikeAnsibleGroup(p.value) {
			keys.groupLike = append(keys.groupLike, p)
		}
	}

	return keys
}

// detectFormat decides the format of d from its top-level keys by the rule in the package
// documentation. It records an error and returns formatUnknown if the keys fit neither
// format or fit both.
func detectFormat(d *document) format {
	keys := classifyKeys(d.root)

	switch {
	case keys.hasAll:
		return formatAnsible
	case len(keys.other) == 0:
		return checkOwnFormat(d, keys)
	case len(keys.own) == 0 && len(keys.groupLike) > 0:
		return formatAnsible
	case len(keys.own) == 0:
		reportUnknownFormat(d, keys.other)
		return formatUnknown
	default:
		return checkMixedFormat(d, keys)
	}
}

// checkOwnFormat returns formatOwn for a file with only fleetharden keys, unless one of
// them could also be an Ansible group and the hosts are not fleetharden hosts.
func checkOwnFormat(d *document, keys topLevelKeys) format {
	if len(keys.groupLike) == 0 || hasOwnHosts(d.root) {
		return formatOwn
	}

	p := keys.groupLike[0]
	d.addError(d.pos(p.key), p.name, "cannot tell the inventory format: %s could be an "+
		"Ansible group, and its hosts have keys that fleetharden hosts do not have; %s",
		p.name, formatAdvice)

	return formatUnknown
}

// checkMixedFormat returns formatOwn for a file with fleetharden keys and other keys,
// unless one of the other keys looks like an Ansible group.
func checkMixedFormat(d *document, keys topLevelKeys) format {
	for _, p := range keys.other {
		if looksLikeAnsibleGroup(p.value) {
			d.addError(d.pos(p.key), p.name, "cannot tell the inventory format: %s looks "+
				"like an Ansible group, but %s is a fleetharden key; %s",
				p.name, keys.own[0].name, formatAdvice)
			return formatUnknown
		}
	}

	return formatOwn
}

// formatAdvice is the fix for an inventory whose format is unclear.
const formatAdvice = "wrap an Ansible inventory in all: (all: {children: {...}}), or put " +
	"fleetharden groups under groups:"

// looksLikeAnsibleGroup reports whether n is a mapping with a hosts, children or vars key.
func looksLikeAnsibleGroup(n *yaml.Node) bool {
	for _, p := range entries(n) {
		if slices.Contains(ansibleGroupKeys, p.name) {
			return true
		}
	}

	return false
}

// hasOwnHosts reports whether every host under the top-level hosts mapping and under the
// hosts of each group is empty or has only fleetharden host keys.
func hasOwnHosts(root *yaml.Node) bool {
	var hostMaps []*yaml.Node
	for _, p := range entries(root) {
		switch p.name {
		case "hosts":
			hostMaps = append(hostMaps, p.value)
		case "groups":
			for _, group := range entries(p.value) {
				for _, q := range entries(group.value) {
					if q.name == "hosts" {
						hostMaps = append(hostMaps, q.value)
					}
				}
			}
		}
	}

	for _, hosts := range hostMaps {
		for _, host := range entries(hosts) {
			for _, key := range entries(host.value) {
				if !slices.Contains(hostKeys, key.name) {
					return false
				}
			}
		}
	}

	return true
}

// reportUnknownFormat records an error for each top-level key of a file that looks like
// neither format.
func reportUnknownFormat(d *document, keys []pair) {
	valid := append(slices.Clone(fleetKeys), allGroup)

	for _, p := range keys {
		msg := fmt.Sprintf("unknown top-level key %q", p.name)
		if near := closest(p.name, valid); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		}
		d.addError(d.pos(p.key), p.name, "%s; a fleetharden inventory has the top-level "+
			"keys %s, and an Ansible inventory has all: or groups with hosts, children or "+
			"vars", msg, strings.Join(fleetKeys, ", "))
	}
}
