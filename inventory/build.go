package inventory

import (
	"fmt"
	"os"
	"os/user"
	"slices"
)

// Names of the groups that every inventory has.
const (
	allGroup       = "all"       // every host
	ungroupedGroup = "ungrouped" // hosts in no other group, as in Ansible
)

// defaultPort is the SSH port of hosts that set none.
const defaultPort = 22

// hostRecord is a host with its settings merged by the rules of its format, before the
// defaults of Host apply.
type hostRecord struct {
	name       string
	pos        Position
	connection connection
	vars       variables
	groups     []string // groups that contain the host, without "all"
}

// buildInventory applies the defaults to records and returns the inventory. groups lists
// the groups that the file defines, so that empty groups are in Inventory.Groups too.
func buildInventory(d *document, records []*hostRecord, groups []string) *Inventory {
	slices.SortStableFunc(records, func(a, b *hostRecord) int {
		return comparePositions(a.pos, b.pos)
	})

	inv := &Inventory{File: d.file, Groups: map[string][]string{allGroup: nil}}
	for _, name := range groups {
		inv.Groups[name] = nil
	}

	var login loginName
	for _, r := range records {
		host := buildHost(d, r, &login)
		inv.Hosts = append(inv.Hosts, host)
		for _, name := range host.Groups {
			inv.Groups[name] = append(inv.Groups[name], host.Name)
		}
	}

	for _, host := range inv.Hosts {
		if _, ok := inv.Groups[host.Name]; ok {
			d.warnOnce("name "+host.Name, host.Pos, "host %s has the name of a group; "+
				"the host pattern %s selects the group, not the host", host.Name, host.Name)
		}
	}
	inv.Warnings = d.warningMessages()

	return inv
}

// buildHost returns the host of r with the defaults applied, recording an error if a
// default does not work for it.
func buildHost(d *document, r *hostRecord, login *loginName) *Host {
	c := r.connection
	host := &Host{
		Name:    r.name,
		Address: r.name,
		Port:    defaultPort,
		KeyFile: c.key.value,
		Become:  c.become.value,
		Groups:  hostGroups(r.groups),
		Vars:    make(map[string]any, len(r.vars)),
		Pos:     r.pos,
	}
	for name, v := range r.vars {
		host.Vars[name] = v.value
	}
	if c.port.set {
		host.Port = c.port.value
	}

	if c.address.set {
		host.Address = c.address.value
	} else if problem := checkAddress(r.name); problem != "" {
		d.addError(r.pos, r.name, "host %s sets no address, and its name is not a valid "+
			"address: %s; set address (ansible_host in Ansible inventories)", r.name, problem)
	}

	host.User = c.user.value
	if !c.user.set {
		name, err := login.get()
		if err != nil {
			d.addError(r.pos, r.name, "host %s sets no user, and the current OS user is "+
				"unknown: %v; set user (ansible_user in Ansible inventories)", r.name, err)
		}
		host.User = name
	}

	return host
}

// hostGroups returns the sorted group names of a host, adding "all", and "ungrouped" for a
// host in no other group.
func hostGroups(groups []string) []string {
	names := []string{allGroup}
	for _, name := range groups {
		if name != allGroup && name != ungroupedGroup {
			names = append(names, name)
		}
	}
	if len(names) == 1 {
		names = append(names, ungroupedGroup)
	}
	slices.Sort(names)

	return slices.Compact(names)
}

// loginName looks up the name of the current OS user once, when a host needs it.
type loginName struct {
	name string
	err  error
	done bool
}

func (l *loginName) get() (string, error) {
	if l.done {
		return l.name, l.err
	}
	l.done = true

	current, err := user.Current()
	switch {
	case err == nil && current.Username != "":
		l.name = current.Username
	case os.Getenv("USER") != "":
		l.name = os.Getenv("USER")
	case err != nil:
		l.err = fmt.Errorf("look up current user: %w", err)
	default:
		l.err = fmt.Errorf("look up current user: the name is empty")
	}

	return l.name, l.err
}
