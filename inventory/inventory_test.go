package inventory

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// loadFixture loads testdata/name and fails the test if it does not parse.
func loadFixture(t *testing.T, name string) *Inventory {
	t.Helper()

	inv, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}

	return inv
}

// parseText parses an inventory given as text and fails the test if it does not parse.
func parseText(t *testing.T, text string) *Inventory {
	t.Helper()

	inv, err := Parse("inline.yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v\ninput:\n%s", err, text)
	}

	return inv
}

func findHost(t *testing.T, inv *Inventory, name string) *Host {
	t.Helper()

	for _, host := range inv.Hosts {
		if host.Name == name {
			return host
		}
	}
	t.Fatalf("host %s not found in %s", name, hostNames(inv.Hosts))

	return nil
}

func hostNames(hosts []*Host) []string {
	var names []string
	for _, host := range hosts {
		names = append(names, host.Name)
	}

	return names
}

// errorList returns the *Error values joined in err.
func errorList(t *testing.T, err error) []*Error {
	t.Helper()

	var list []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	} else {
		list = []error{err}
	}

	var errs []*Error
	for _, e := range list {
		var inventoryError *Error
		if !errors.As(e, &inventoryError) {
			t.Fatalf("error %q (%T) is not an *Error", e, e)
		}
		errs = append(errs, inventoryError)
	}

	return errs
}

func currentUserName(t *testing.T) string {
	t.Helper()

	current, err := user.Current()
	if err != nil {
		t.Fatalf("look up current user: %v", err)
	}

	return current.Username
}

func TestExampleInventoryParses(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	inv, err := Load(filepath.Join("..", "inventory.example.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	want := []string{"web1", "web2", "db1", "lone"}
	if got := hostNames(inv.Hosts); !slices.Equal(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	web1 := findHost(t, inv, "web1")
	if web1.User != "admin" {
		t.Errorf("web1 user = %q, want admin from group web", web1.User)
	}
	if web1.Port != 2200 {
		t.Errorf("web1 port = %d, want 2200 from group db", web1.Port)
	}
	web2 := findHost(t, inv, "web2")
	if want := filepath.Join(home, ".ssh", "id_ed25519"); web2.KeyFile != want {
		t.Errorf("web2 key = %q, want %q", web2.KeyFile, want)
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", inv.Warnings)
	}
}

func TestOwnFormatHosts(t *testing.T) {
	inv := loadFixture(t, "precedence_own.yaml")

	tests := []struct {
		name   string
		user   string
		port   int
		become bool
		groups []string
		vars   map[string]any
	}{
		{
			name: "h1", user: "hostuser", port: 2001, become: true,
			groups: []string{"all", "first", "second"},
			vars: map[string]any{
				"level": "first", "fleet_only": 1, "list": []any{"first"},
				"shared": "second", "second_only": true, "nested": map[string]any{"a": 1},
			},
		},
		{
			name: "h2", user: "fleetuser", port: 2001, become: false,
			groups: []string{"all", "first"},
			vars: map[string]any{
				"level": "host", "fleet_only": 1, "list": []any{"first"}, "shared": "first",
			},
		},
		{
			name: "h3", user: "fleetuser", port: 2003, become: false,
			groups: []string{"all", "ungrouped"},
			vars:   map[string]any{"level": "fleet", "fleet_only": 1, "list": []any{"fleet"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := findHost(t, inv, tt.name)
			if host.Address != tt.name {
				t.Errorf("address = %q, want the host name", host.Address)
			}
			if host.User != tt.user {
				t.Errorf("user = %q, want %q", host.User, tt.user)
			}
			if host.Port != tt.port {
				t.Errorf("port = %d, want %d", host.Port, tt.port)
			}
			if host.Become != tt.become {
				t.Errorf("become = %v, want %v", host.Become, tt.become)
			}
			if !slices.Equal(host.Groups, tt.groups) {
				t.Errorf("groups = %v, want %v", host.Groups, tt.groups)
			}
			if !reflect.DeepEqual(host.Vars, tt.vars) {
				t.Errorf("vars = %#v, want %#v", host.Vars, tt.vars)
			}
		})
	}
}

func TestOwnFormatGroupVariableWarning(t *testing.T) {
	inv := loadFixture(t, "precedence_own.yaml")

	if len(inv.Warnings) != 1 {
		t.Fatalf("warnings = %q, want one about shared", inv.Warnings)
	}
	want := "precedence_own.yaml:23:7: variable shared is also set at line 14, column 7"
	if !strings.Contains(inv.Warnings[0], want) {
		t.Errorf("warning = %q, want it to contain %q", inv.Warnings[0], want)
	}
}

func TestAnsibleFormatHosts(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	inv := loadFixture(t, "ansible.yaml")
	keyFile, err := filepath.Abs(filepath.Join("testdata", "keys", "db_ed25519"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		address string
		port    int
		user    string
		key     string
		become  bool
		tier    string
		groups  []string
	}{
		{"bastion.example.com", "bastion.example.com", 2022, "deploy", "", true, "none",
			[]string{"all", "ungrouped"}},
		{"web01.example.com", "web01.example.com", 22, "deploy", "", true, "prod-web",
			[]string{"all", "monitoring", "prod", "prod_web"}},
		{"web02.example.com", "web02.example.com", 22, "deploy", "", true, "prod-web",
			[]string{"all", "canary", "monitoring", "prod", "prod_web"}},
		{"web03.example.com", "web03.example.com", 22, "deploy", "", true, "prod-web",
			[]string{"all", "prod", "prod_web"}},
		{"web04.example.com", "10.1.0.14", 22, "deploy", "", true, "web04-override",
			[]string{"all", "prod", "prod_web"}},
		{"db-a.example.com", "db-a.example.com", 22, "dba", keyFile, false, "prod",
			[]string{"all", "prod", "prod_db"}},
		{"db-b.example.com", "db-b.example.com", 22, "dba", keyFile, false, "prod",
			[]string{"all", "prod", "prod_db"}},
		{"stage1.example.com", "stage1.example.com", 2222, "deploy", "", true, "staging",
			[]string{"all", "staging"}},
		{"2001:db8::5", "2001:db8::5", 2200, "ops", "", true, "staging",
			[]string{"all", "staging"}},
		{"spare.example.com", "spare.example.com", 22, "deploy", "", true, "none",
			[]string{"all", "ungrouped"}},
	}

	var wantOrder []string
	for _, tt := range tests {
		wantOrder = append(wantOrder, tt.name)
		t.Run(tt.name, func(t *testing.T) {
			host := findHost(t, inv, tt.name)
			if host.Address != tt.address {
				t.Errorf("address = %q, want %q", host.Address, tt.address)
			}
			if host.Port != tt.port {
				t.Errorf("port = %d, want %d", host.Port, tt.port)
			}
			if host.User != tt.user {
				t.Errorf("user = %q, want %q", host.User, tt.user)
			}
			if host.KeyFile != tt.key {
				t.Errorf("key = %q, want %q", host.KeyFile, tt.key)
			}
			if host.Become != tt.become {
				t.Errorf("become = %v, want %v", host.Become, tt.become)
			}
			if host.Vars["tier"] != tt.tier {
				t.Errorf("tier = %v, want %q", host.Vars["tier"], tt.tier)
			}
			if !slices.Equal(host.Groups, tt.groups) {
				t.Errorf("groups = %v, want %v", host.Groups, tt.groups)
			}
			for name := range host.Vars {
				if strings.HasPrefix(name, "ansible_") {
					t.Errorf("vars contain %s, want no ansible_* variables", name)
				}
			}
		})
	}

	if got := hostNames(inv.Hosts); !slices.Equal(got, wantOrder) {
		t.Errorf("host order = %v, want %v", got, wantOrder)
	}
}

func TestAnsibleFormatGroups(t *testing.T) {
	inv := loadFixture(t, "ansible.yaml")

	want := map[string][]string{
		"prod_db":   {"db-a.example.com", "db-b.example.com"},
		"canary":    {"web02.example.com"},
		"ungrouped": {"bastion.example.com", "spare.example.com"},
		"staging":   {"stage1.example.com", "2001:db8::5"},
		"monitoring": {
			"web01.example.com", "web02.example.com",
		},
	}
	for group, hosts := range want {
		if got := inv.Groups[group]; !slices.Equal(got, hosts) {
			t.Errorf("group %s = %v, want %v", group, got, hosts)
		}
	}
	if got := len(inv.Groups["all"]); got != len(inv.Hosts) {
		t.Errorf("group all has %d hosts, want %d", got, len(inv.Hosts))
	}
	if got := len(inv.Groups["prod"]); got != 6 {
		t.Errorf("group prod has %d hosts, want 6 from its children", got)
	}
}

func TestAnsibleFormatWarnings(t *testing.T) {
	inv := loadFixture(t, "ansible.yaml")

	want := []string{
		"testdata/ansible.yaml:37:9: ansible_python_interpreter is ignored",
		"testdata/ansible.yaml:61:11: ansible_become_password is ignored: fleetharden never " +
			"reads secrets from inventories; give the sudo password with --become-pass-file",
	}
	if len(inv.Warnings) != len(want) {
		t.Fatalf("warnings = %q, want %d", inv.Warnings, len(want))
	}
	for i, prefix := range want {
		if !strings.HasPrefix(inv.Warnings[i], prefix) {
			t.Errorf("warning %d = %q, want prefix %q", i, inv.Warnings[i], prefix)
		}
	}
}

func TestAnsiblePrecedence(t *testing.T) {
	inv := loadFixture(t, "precedence_ansible.yaml")

	tests := []struct {
		host string
		vars map[string]any
	}{
		{"h1", map[string]any{"level": "child", "all_only": 1, "parent_only": 1, "pick": "alpha"}},
		{"h2", map[string]any{"level": "host", "all_only": 1, "parent_only": 1}},
		{"h3", map[string]any{"level": "all", "all_only": 1, "pick": "alpha"}},
	}
	for _, tt := range tests {
		if got := findHost(t, inv, tt.host).Vars; !reflect.DeepEqual(got, tt.vars) {
			t.Errorf("%s vars = %v, want %v", tt.host, got, tt.vars)
		}
	}
}

func TestAnsibleGroupOrderByName(t *testing.T) {
	inv := parseText(t, `
all:
  children:
    zeta:
      vars: {pick: zeta, ansible_user: zeta}
      hosts: {h1: }
    alpha:
      vars: {pick: alpha, ansible_user: alpha}
      hosts: {h1: }
`)

	host := findHost(t, inv, "h1")
	if host.Vars["pick"] != "zeta" {
		t.Errorf("pick = %v, want zeta, the last group by name", host.Vars["pick"])
	}
	if host.User != "zeta" {
		t.Errorf("user = %q, want zeta, the last group by name", host.User)
	}
}

func TestAnsibleConnectionVariables(t *testing.T) {
	inv := parseText(t, `
all:
  hosts:
    a:
      ansible_ssh_host: 10.0.0.1
      ansible_host: 10.0.0.2
      ansible_ssh_port: 2201
      ansible_ssh_user: old
      ansible_private_key_file: /keys/a
      ansible_become: "True"
    b:
      ansible_ssh_host: 10.0.0.3
      ansible_port: 2202
      ansible_become: "off"
    c:
      ansible_become: 1
`)

	tests := []struct {
		name    string
		address string
		port    int
		user    string
		key     string
		become  bool
	}{
		// ansible_host wins over ansible_ssh_host, whatever their order.
		{"a", "10.0.0.2", 2201, "old", "/keys/a", true},
		{"b", "10.0.0.3", 2202, currentUserName(t), "", false},
		{"c", "c", 22, currentUserName(t), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := findHost(t, inv, tt.name)
			if host.Address != tt.address {
				t.Errorf("address = %q, want %q", host.Address, tt.address)
			}
			if host.Port != tt.port {
				t.Errorf("port = %d, want %d", host.Port, tt.port)
			}
			if host.User != tt.user {
				t.Errorf("user = %q, want %q", host.User, tt.user)
			}
			if host.KeyFile != tt.key {
				t.Errorf("key = %q, want %q", host.KeyFile, tt.key)
			}
			if host.Become != tt.become {
				t.Errorf("become = %v, want %v", host.Become, tt.become)
			}
		})
	}
}

func TestAnsibleTopLevelGroups(t *testing.T) {
	inv := parseText(t, `
web:
  hosts:
    web1:
    web2:
db:
  hosts: db1
  vars:
    role: db
empty:
`)

	want := []string{"web1", "web2", "db1"}
	if got := hostNames(inv.Hosts); !slices.Equal(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	if got := findHost(t, inv, "db1").Vars["role"]; got != "db" {
		t.Errorf("db1 role = %v, want db", got)
	}
	if members, ok := inv.Groups["empty"]; !ok || len(members) != 0 {
		t.Errorf("group empty = %v, %v, want present and empty", members, ok)
	}
}

func TestHostDefaults(t *testing.T) {
	inv := parseText(t, "hosts:\n  web1:\n")

	host := findHost(t, inv, "web1")
	if host.Address != "web1" {
		t.Errorf("address = %q, want web1", host.Address)
	}
	if host.Port != 22 {
		t.Errorf("port = %d, want 22", host.Port)
	}
	if want := currentUserName(t); host.User != want {
		t.Errorf("user = %q, want the current user %q", host.User, want)
	}
	if host.KeyFile != "" {
		t.Errorf("key = %q, want empty for the agent and default keys", host.KeyFile)
	}
	if host.Become {
		t.Errorf("become = true, want false")
	}
	if host.Vars == nil {
		t.Errorf("vars = nil, want an empty map")
	}
	if want := (Position{File: "inline.yaml", Line: 2, Column: 3}); host.Pos != want {
		t.Errorf("position = %v, want %v", host.Pos, want)
	}
}

func TestKeyPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	file := filepath.Join(dir, "inventory.yaml")
	text := `
hosts:
  tilde: {key: ~/.ssh/id_ed25519}
  relative: {key: keys/id_rsa}
  dotted: {key: ../shared/id_rsa}
  absolute: {key: /etc/fleet/../fleet/id}
`
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	inv, err := Load(file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	tests := map[string]string{
		"tilde":    filepath.Join(home, ".ssh", "id_ed25519"),
		"relative": filepath.Join(dir, "keys", "id_rsa"),
		"dotted":   filepath.Join(filepath.Dir(dir), "shared", "id_rsa"),
		"absolute": "/etc/fleet/id",
	}
	for name, want := range tests {
		if got := findHost(t, inv, name).KeyFile; got != want {
			t.Errorf("%s key = %q, want %q", name, got, want)
		}
	}
}

func TestHostInSeveralGroups(t *testing.T) {
	inv := parseText(t, `
groups:
  web:
    user: admin
    hosts:
      web1: {address: 10.0.0.1}
  db:
    user: dba
    hosts:
      web1: {user: root, port: 2222}
  backup:
    hosts:
      web1: {address: 10.0.0.1}
`)

	host := findHost(t, inv, "web1")
	if host.User != "root" {
		t.Errorf("user = %q, want root: the host entry settles the groups' conflict", host.User)
	}
	if host.Address != "10.0.0.1" {
		t.Errorf("address = %q, want 10.0.0.1 from both entries", host.Address)
	}
	if host.Port != 2222 {
		t.Errorf("port = %d, want 2222 from the entry in db", host.Port)
	}
	if want := []string{"all", "backup", "db", "web"}; !slices.Equal(host.Groups, want) {
		t.Errorf("groups = %v, want %v", host.Groups, want)
	}
	if len(inv.Hosts) != 1 {
		t.Errorf("hosts = %v, want web1 once", hostNames(inv.Hosts))
	}
}

func TestAliasesAndMergeKeys(t *testing.T) {
	inv := parseText(t, `
groups:
  web:
    hosts:
      web1: &base
        port: 2222
        vars: {docker_users: &users [alice, bob]}
      web2:
        <<: *base
        address: 10.0.0.2
      web3:
        <<: [{port: 2300}, *base]
        vars: {docker_users: *users, extra: 1}
`)

	tests := []struct {
		name string
		port int
		vars map[string]any
	}{
		{"web1", 2222, map[string]any{"docker_users": []any{"alice", "bob"}}},
		{"web2", 2222, map[string]any{"docker_users": []any{"alice", "bob"}}},
		{"web3", 2300, map[string]any{"docker_users": []any{"alice", "bob"}, "extra": 1}},
	}
	for _, tt := range tests {
		host := findHost(t, inv, tt.name)
		if host.Port != tt.port {
			t.Errorf("%s port = %d, want %d", tt.name, host.Port, tt.port)
		}
		if !reflect.DeepEqual(host.Vars, tt.vars) {
			t.Errorf("%s vars = %v, want %v", tt.name, host.Vars, tt.vars)
		}
	}
	if got := findHost(t, inv, "web2").Address; got != "10.0.0.2" {
		t.Errorf("web2 address = %q, want the explicit key to win over the merge", got)
	}
}

func TestVariableTypes(t *testing.T) {
	inv := parseText(t, `
hosts:
  web1:
    vars:
      text: hello
      yes_word: yes
      number: 42
      hex: 0x10
      ratio: 0.5
      flag: true
      nothing: ~
      date: 2024-01-02
      unsafe: !unsafe "{{ raw }}"
      list: [1, two, {three: 3}]
      table: {1: one, nested: {deep: [true]}}
`)

	want := map[string]any{
		"text":     "hello",
		"yes_word": "yes",
		"number":   42,
		"hex":      16,
		"ratio":    0.5,
		"flag":     true,
		"nothing":  nil,
		"date":     "2024-01-02",
		"unsafe":   "{{ raw }}",
		"list":     []any{1, "two", map[string]any{"three": 3}},
		"table":    map[string]any{"1": "one", "nested": map[string]any{"deep": []any{true}}},
	}
	if got := findHost(t, inv, "web1").Vars; !reflect.DeepEqual(got, want) {
		t.Errorf("vars = %#v, want %#v", got, want)
	}
}

func TestHostNameAlsoGroupName(t *testing.T) {
	inv := parseText(t, "groups:\n  web:\n    hosts:\n      web: {address: 10.0.0.1}\n")

	if len(inv.Warnings) != 1 {
		t.Fatalf("warnings = %q, want one about host web", inv.Warnings)
	}
	if want := "host web has the name of a group"; !strings.Contains(inv.Warnings[0], want) {
		t.Errorf("warning = %q, want it to contain %q", inv.Warnings[0], want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))

	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v, want one wrapping os.ErrNotExist", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "read inventory: ") {
		t.Errorf("error = %q, want the operation first", err)
	}
}

func TestFormatDetection(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		hosts []string
		err   string // substring of the error, "" if the text parses
	}{
		{"own hosts", "hosts:\n  web1:\n", []string{"web1"}, ""},
		{"own groups", "groups:\n  web:\n    hosts:\n      web1:\n", []string{"web1"}, ""},
		{"ansible all", "all:\n  hosts:\n    web1:\n", []string{"web1"}, ""},
		{"ansible top-level groups", "web:\n  hosts:\n    web1:\n", []string{"web1"}, ""},
		{"ansible group named hosts", "all:\n  children:\n    hosts:\n      hosts:\n        h:\n",
			[]string{"h"}, ""},
		{"own variable named hosts", "vars:\n  hosts: [a]\nhosts:\n  web1:\n",
			[]string{"web1"}, ""},
		{"ambiguous group named hosts", "hosts:\n  hosts:\n    web1:\n", nil,
			"cannot tell the inventory format: hosts could be an Ansible group"},
		{"ambiguous mix", "vars: {a: 1}\nweb:\n  hosts:\n    web1:\n", nil,
			"cannot tell the inventory format: web looks like an Ansible group"},
		{"unknown", "servers:\n  - web1\n", nil, `unknown top-level key "servers"`},
		{"not a mapping", "- web1\n- web2\n", nil,
			"the top level of an inventory must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse("inline.yaml", []byte(tt.text))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := hostNames(inv.Hosts); !slices.Equal(got, tt.hosts) {
				t.Errorf("hosts = %v, want %v", got, tt.hosts)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		pos  Position
		want string
	}{
		{Position{File: "inv.yaml", Line: 3, Column: 7}, "inv.yaml:3:7: bad"},
		{Position{File: "inv.yaml", Line: 3}, "inv.yaml:3: bad"},
		{Position{File: "inv.yaml"}, "inv.yaml: bad"},
	}
	for _, tt := range tests {
		err := &Error{Pos: tt.pos, Msg: "bad"}
		if got := err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestManyErrorsAreCapped(t *testing.T) {
	var text strings.Builder
	text.WriteString("hosts:\n")
	for i := range maxErrors + 20 {
		text.WriteString("  web" + strings.Repeat("x", i) + ": {port: 0}\n")
	}

	_, err := Parse("inline.yaml", []byte(text.String()))

	errs := errorList(t, err)
	if len(errs) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d and a summary", len(errs), maxErrors+1)
	}
	if last := errs[maxErrors].Msg; !strings.HasPrefix(last, "20 more errors not shown") {
		t.Errorf("last error = %q, want a summary of the 20 left out", last)
	}
}

func TestDeepGroupNesting(t *testing.T) {
	const depth = 1000
	var text strings.Builder
	text.WriteString("all: ")
	for i := range depth {
		fmt.Fprintf(&text, "{children: {g%d: ", i)
	}
	text.WriteString("{hosts: {deep: }}")
	text.WriteString(strings.Repeat("}}", depth))
	text.WriteString("\n")

	inv, err := Parse("inline.yaml", []byte(text.String()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	host := findHost(t, inv, "deep")
	if len(host.Groups) != depth+1 {
		t.Errorf("deep host is in %d groups, want %d", len(host.Groups), depth+1)
	}
}
