// Package inventory reads the YAML files that list the hosts fleetharden runs against,
// with their connection settings, groups and variables.
//
// Two formats are read. The fleetharden format has connection defaults and variables at
// fleet level, a flat "groups" mapping, and an optional top-level "hosts" mapping for hosts
// in no group. The file inventory.example.yaml at the repository root documents it.
//
// Ansible's YAML inventory format is read as Ansible reads it: nested "children", "hosts"
// and "vars", the ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file
// and ansible_become connection variables, host ranges such as web[01:20], and the
// host:port form. Other ansible_* variables are left out of the host variables, with a
// warning. Passwords are never read from an inventory, in either format.
//
// # Format detection
//
// Parse decides the format from the top-level keys, and looks deeper only to settle one
// case:
//
//   - A top-level "all" key means Ansible.
//   - Otherwise, if every top-level key is a fleetharden key (user, port, key, become, vars,
//     groups, hosts), the file is in the fleetharden format. The one exception is a file in
//     which a top-level value also looks like an Ansible group (a mapping with a "hosts",
//     "children" or "vars" key) and some host under "hosts" or "groups" has keys that are
//     not fleetharden host keys. Parse rejects such a file as ambiguous.
//   - Otherwise, if no top-level key is a fleetharden key and at least one top-level value
//     looks like an Ansible group, the file is an Ansible inventory whose top-level keys are
//     group names.
//   - A file that mixes fleetharden keys with Ansible-looking groups is rejected as
//     ambiguous. Fleetharden keys next to other keys that do not look like groups make a
//     fleetharden file, and each other key is reported as unknown.
//   - A file with neither fleetharden keys nor Ansible-looking groups is rejected, with an
//     error for each top-level key.
//
// Wrapping an Ansible inventory in "all:" always selects Ansible, so it resolves any
// ambiguity.
//
// # Precedence
//
// In the fleetharden format a host's settings come from the fleet level, then its groups,
// then the host entry itself, the most specific level winning. Variables are replaced per
// key, never deep-merged. When a host is in several groups and two of them set the same
// connection field to different values, Parse reports an error naming both places, unless
// the host entry sets that field itself. Two groups that set the same variable to different
// values are not an error. The group that comes later in the file wins, and Parse adds a
// warning.
//
// In the Ansible format variables merge as Ansible merges them: "all", then the other
// groups ordered by depth below "all", then by ansible_group_priority, then by name, then
// the host's own variables. The same order applies to the connection variables.
//
// In both formats, a host listed in several places must not set one connection field to two
// different values, so a host defined twice with different addresses is an error. The
// variables of several entries of one host merge in file order, the later entry winning.
// The fleetharden format adds a warning when two entries give a variable different values.
//
// Every host is in the group "all". A host in no other group is also in "ungrouped", as in
// Ansible.
//
// # Errors
//
// Parse and Load report every problem they find, not only the first, up to 100 and a
// summary of the rest. A file that is not valid YAML, or whose aliases expand too far,
// gets that one error. The returned error joins values of type *Error with errors.Join, so
// errors.As finds the first, and a type assertion to interface{ Unwrap() []error } lists
// them all.
package inventory
