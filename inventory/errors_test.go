package inventory

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// wantError is an expected *Error: its line, column and a substring of its message.
type wantError struct {
	line, column int
	msg          string
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		fixture string
		want    []wantError
	}{
		{"empty.yaml", []wantError{
			{0, 0, "inventory is empty; list at least one host"},
		}},
		{"comments_only.yaml", []wantError{
			{0, 0, "inventory is empty"},
		}},
		{"no_hosts.yaml", []wantError{
			{1, 1, "the inventory lists no hosts; add hosts under hosts or under " +
				"groups.NAME.hosts"},
		}},
		{"syntax_tab.yaml", []wantError{
			{3, 1, "invalid YAML: a tab character is used for indentation"},
		}},
		{"syntax_flow.yaml", []wantError{
			{3, 0, "invalid YAML near this line: did not find expected ',' or '}'"},
		}},
		{"syntax_first_line.yaml", []wantError{
			{1, 0, "invalid YAML near this line: mapping values are not allowed"},
		}},
		{"unknown_anchor.yaml", []wantError{
			{3, 11, "alias *defaults refers to no anchor"},
		}},
		{"control_character.yaml", []wantError{
			{3, 20, "invalid YAML: control characters are not allowed"},
		}},
		{"multiple_documents.yaml", []wantError{
			{4, 1, "a second YAML document starts here"},
		}},
		{"alias_recursive.yaml", []wantError{
			{4, 15, "alias *web is inside the node it refers to"},
		}},
		{"alias_bomb.yaml", []wantError{
			{6, 8, "aliases expand to more than 200000 YAML nodes"},
		}},
		{"tree_errors.yaml", []wantError{
			{3, 9, "the value of a merge key (<<) must be a mapping or a list of mappings, " +
				`got "5"`},
			{4, 5, "a mapping key must be a plain string, got a list"},
		}},
		{"duplicate_keys.yaml", []wantError{
			{3, 3, `duplicate key "web1": it is already defined at line 2, column 3`},
			{6, 3, `duplicate key "docker_users": it is already defined at line 5, column 3`},
		}},
		{"ambiguous.yaml", []wantError{
			{3, 1, "cannot tell the inventory format: web looks like an Ansible group, " +
				"but vars is a fleetharden key; wrap an Ansible inventory in all:"},
		}},
		{"unknown_format.yaml", []wantError{
			{1, 1, `unknown top-level key "grups" (did you mean "groups"?)`},
			{3, 1, `unknown top-level key "web1"; a fleetharden inventory has the top-level keys`},
		}},
		{"unknown_keys.yaml", []wantError{
			{3, 5, `unknown key "hots" in group web (did you mean "hosts"?); valid keys are ` +
				"user, port, key, become, vars, hosts"},
			{7, 5, `unknown key "adress" in host web2 (did you mean "address"?)`},
			{9, 5, `unknown key "ansible_host" in host web3; valid keys are address, port, ` +
				"user, key, become, vars; ansible_* keys belong to Ansible inventories"},
			{11, 5, `unknown key "docker_users" in host web4; valid keys are address, port, ` +
				"user, key, become, vars; if docker_users is a variable, put it under vars"},
		}},
		{"wrong_types.yaml", []wantError{
			{1, 7, `invalid port "70000": it must be an integer from 1 to 65535`},
			{4, 13, `invalid become "yes": it must be true or false (YAML 1.2 reads yes`},
			{5, 11, `invalid user "Bad User": a user name contains lowercase letters`},
			{8, 15, `invalid port "22": it must be an integer from 1 to 65535, ` +
				"written without quotes"},
			{9, 18, `invalid address "10.0.0.1; rm -rf /": it contains ';'`},
			{11, 14, `invalid key "keys/id\nrsa": it contains a line break or NUL character`},
			{12, 15, "user must be a string, got a list"},
			{14, 15, `invalid port "0": it must be an integer from 1 to 65535`},
			{15, 17, `invalid become "1": it must be true or false`},
			{16, 18, `invalid address "-oProxyCommand=x": it must not start with '-'`},
			{18, 15, "vars of host web4 must be a mapping of variable names to values, got a list"},
		}},
		{"names.yaml", []wantError{
			{2, 3, `invalid variable name "docker-users": use letters, digits and underscores`},
			{4, 3, `invalid group name "web servers": group names contain only letters`},
			{6, 3, "group name all is reserved"},
			{9, 3, `invalid host name "" in top-level hosts: the host name is empty`},
			{10, 3, `duplicate key "~": it is already defined at line 9, column 3`},
			{11, 3, `invalid host name "web,1" in top-level hosts: it contains ','`},
			{12, 3, `invalid host name "!web" in top-level hosts: it must not start with '!'`},
			{13, 3, "host db@1 sets no address, and its name is not a valid address: set the " +
				"login name with the user field"},
		}},
		{"variable_values.yaml", []wantError{
			{4, 12, `variable big: invalid 64-bit integer "99999999999999999999"; ` +
				"remove the !!int tag"},
			{5, 15, "variable custom has the unsupported YAML tag !thing"},
			{6, 13, `variable blob: invalid base64 binary value "%%%"`},
			{7, 15, "variable secret is encrypted with Ansible Vault"},
			{9, 17, "variable infinite: .inf is not a finite number; quote it to keep it as " +
				"a string"},
			{10, 12, "variable nan: .nan is not a finite number"},
		}},
		{"conflicts.yaml", []wantError{
			{8, 11, `host web1: user "dba" from group db conflicts with "admin" from group web ` +
				"at line 3, column 11; set user in the host entry or give both groups the " +
				"same value"},
			{11, 23, `host web1: address "10.0.0.2" from its entry in group db conflicts with ` +
				`"10.0.0.1" from its entry in group web at line 6, column 23`},
		}},
		{"ansible_conflict.yaml", []wantError{
			{8, 30, `host web1: address "10.0.0.2" from its entry in group db conflicts with ` +
				`"10.0.0.1" from its entry in group web at line 5, column 30`},
		}},
		{"ansible_cycle.yaml", []wantError{
			{12, 13, "group a is its own ancestor (a > b > c > a); remove it from the " +
				"children of c"},
		}},
		{"all_child.yaml", []wantError{
			{5, 9, "group all cannot be a child of web"},
		}},
		{"ansible_values.yaml", []wantError{
			{6, 25, `invalid ansible_port "abc": it must be an integer from 1 to 65535`},
			{7, 27, `invalid ansible_become "maybe": it must be true or false`},
			{8, 9, `invalid host key "web[3:1]": invalid host range [3:1]: 3 is greater than 1`},
			{10, 25, "ansible_user is encrypted with Ansible Vault"},
			{13, 41, `invalid ansible_ssh_private_key_file "~bob/.ssh/id_rsa": only ~ and ~/ ` +
				"are expanded"},
			{15, 23, `invalid ansible_host "{{ inventory_hostname }}": templates are not expanded`},
			{17, 14, "hosts of group db must be a mapping of host names to host variables, " +
				"got a list"},
			{18, 7, `unknown key "child" in group db (did you mean "children"?)`},
		}},
	}

	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.fixture, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", tt.fixture)
			inv, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded with %d hosts, want %d errors",
					len(inv.Hosts), len(tt.want))
			}

			errs := errorList(t, err)
			for i, want := range tt.want {
				if i >= len(errs) {
					t.Errorf("missing error %d: %d:%d: %s", i, want.line, want.column, want.msg)
					continue
				}
				got := errs[i]
				if got.Pos.File != path {
					t.Errorf("error %d file = %q, want %q", i, got.Pos.File, path)
				}
				if got.Pos.Line != want.line || got.Pos.Column != want.column {
					t.Errorf("error %d at %d:%d, want %d:%d: %s", i, got.Pos.Line,
						got.Pos.Column, want.line, want.column, got.Msg)
				}
				if !strings.Contains(got.Msg, want.msg) {
					t.Errorf("error %d = %q, want it to contain %q", i, got.Msg, want.msg)
				}
			}
			for _, extra := range errs[min(len(tt.want), len(errs)):] {
				t.Errorf("unexpected error: %v", extra)
			}
		})
	}
}

func TestErrorValue(t *testing.T) {
	file := filepath.Join("testdata", "invalid", "wrong_types.yaml")
	_, err := Load(file)

	var first *Error
	if !errors.As(err, &first) {
		t.Fatalf("error = %v, want an *Error", err)
	}
	if first.Value != "70000" {
		t.Errorf("value = %q, want 70000", first.Value)
	}
	want := fmt.Sprintf("%s:1:7: invalid port", file)
	if !strings.HasPrefix(first.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", first.Error(), want)
	}
}

func TestConflictErrorValue(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "invalid", "conflicts.yaml"))

	errs := errorList(t, err)
	if len(errs) != 2 {
		t.Fatalf("got %d errors, want 2", len(errs))
	}
	if errs[0].Value != "dba" {
		t.Errorf("first value = %q, want dba as written", errs[0].Value)
	}
	if errs[1].Value != "10.0.0.2" {
		t.Errorf("second value = %q, want 10.0.0.2 as written", errs[1].Value)
	}
}
