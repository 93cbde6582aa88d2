// Package inventory reads the files that list the hosts fleetharden runs against, with
// their connection settings, groups and variables.
//
// Three formats are read. The fleetharden format, in YAML, has connection defaults and
// variables at fleet level, a flat "groups" mapping, and an optional top-level "hosts"
// mapping for hosts in no group. The file inventory.example.yaml at the repository root
// documents it.
//
// Ansible's YAML inventory format is read as Ansible reads it: nested "children", "hosts"
// and "vars", the ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file
// and ansible_become connection variables, host ranges such as web[01:20], and the
// host:port form. Other ansible_* variables are left out of the host variables, with a
// warning. Passwords are never read from an inventory, in any format.
//
// Ansible's INI inventory format is read as Ansible 2.14 reads it, into the same hosts and
// groups as the equivalent Ansible YAML inventory, with the same connection variables and
// warnings:
//
//   - A [GROUP] or [GROUP:hosts] section lists hosts, a [GROUP:vars] section sets group
//     variables, one NAME = VALUE a line, and a [GROUP:children] section lists child
//     groups, one name a line. Host lines before the first section put their hosts in the
//     group "ungrouped".
//   - A host line is a host pattern, such as web1, web1:2222, web[01:20] or db-[a:c],
//     followed by variables written NAME=VALUE. Like Ansible, Parse splits the line into
//     words as Python's shlex splits a shell line: spaces separate words, quotes group them
//     and are removed, a backslash outside quotes escapes the next character, and # outside
//     quotes starts a comment.
//   - Lines that start with # or ; are comments. In a [GROUP:vars] line the value is the
//     rest of the line, so a # there is part of a text value. Python drops it only after a
//     literal, as in "timeout = 30  # seconds".
//   - As in Ansible, a group named in a [GROUP:vars] header or under [GROUP:children] must
//     be defined by a [GROUP] or [GROUP:children] section of its own, which may be empty.
//
// # INI values
//
// Like Ansible, Parse reads each INI value as a Python literal, as Python 3.11's
// ast.literal_eval does, and keeps the text as a string when it is not one:
//
//   - Integers in decimal, 0x, 0o or 0b form, with optional '_' between digits, become int.
//     An integer outside the int64 range is an error.
//   - Floats such as 1.5, 1e3 or 2. become float64. A float past the float64 range becomes
//     an infinity, as in Python.
//   - True, False and None become true, false and nil. A sign may precede a number.
//   - Strings in single, double or triple quotes, with an optional r or u prefix, become
//     string, with Python's escapes decoded. Adjacent strings are joined. A \N{NAME}
//     escape and an escaped UTF-16 surrogate are errors.
//   - Lists and tuples become []any. Dicts become map[string]any, and their keys must be
//     strings or integers, which are written in decimal. Brackets nest up to 200 levels.
//   - Bytes, complex numbers and sets are Python literals that Host.Vars cannot hold, so
//     they are errors.
//   - Anything else stays text, such as yes, 10.0.0.1, 007, web-01 and [alice, bob]. A
//     value that starts with [, { or ( but is not a literal gets a warning.
//
// On a host line the shell-style split removes one level of quotes first, so a value with
// spaces needs quotes, and a list of strings needs quotes around the whole value as well
// as its items: docker_users='["alice", "bob"]'.
//
// # Format detection
//
// Parse first decides from the content whether a file is YAML or INI. The file name does
// not decide it:
//
//   - Blank lines and lines that start with # or ; are skipped. A file with no other line
//     is empty, which is an error.
//   - The first remaining line starts a YAML inventory if it is a mapping key such as all:
//     or "hosts: {...}", a document marker (---), a directive (%YAML), a flow mapping ({,
//     as in JSON), a list item (-), a tag (!), an anchor (&) or an explicit key (?). Any
//     other first line, such as a section header ([web]) or a host line
//     (web1 ansible_host=10.0.0.1), starts an INI inventory.
//   - A file that a later unindented line of the other format contradicts is rejected as
//     ambiguous, with an error naming both lines: an INI section header in YAML, or in INI
//     a YAML key alone on its line (web:) or a document marker. Indented lines do not
//     count, because a YAML text block may contain anything.
//   - A file name that ends in .yaml, .yml or .json on an INI file, or in .ini on a YAML
//     file, gets a warning.
//
// Parse then decides the format of a YAML file from its top-level keys, and looks deeper
// only to settle one case:
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
// In both Ansible formats variables merge as Ansible merges them: "all", then the other
// groups ordered by depth below "all", then by ansible_group_priority, then by name, then
// the host's own variables. The same order applies to the connection variables.
//
// In all formats, a host listed in several places must not set one connection field to two
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
// gets that one error, and so does a file whose format is ambiguous. An error in an INI
// file names the column of the offending word, or of the character inside it. The
// returned error joins values of type *Error with errors.Join, so errors.As finds the
// first, and a type assertion to interface{ Unwrap() []error } lists them all.
package inventory
