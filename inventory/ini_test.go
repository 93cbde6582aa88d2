package inventory

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// parseINIText parses an INI inventory given as text and fails the test if it does not parse.
func parseINIText(t *testing.T, text string) *Inventory {
	t.Helper()

	inv, err := Parse("inline.ini", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v\ninput:\n%s", err, text)
	}

	return inv
}

// ansibleListGroup is a group in the output of ansible-inventory --list.
type ansibleListGroup struct {
	Hosts    []string `json:"hosts"`
	Children []string `json:"children"`
}

// loadAnsibleList reads recorded output of ansible-inventory --list: the groups, and the
// variables of each host with numbers converted to the types of Host.Vars.
func loadAnsibleList(t *testing.T, path string) (map[string]ansibleListGroup,
	map[string]map[string]any) {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("%s: %v", path, err)
	}

	var meta struct {
		HostVars map[string]map[string]any `json:"hostvars"`
	}
	decoder := json.NewDecoder(bytes.NewReader(top["_meta"]))
	decoder.UseNumber()
	if err := decoder.Decode(&meta); err != nil {
		t.Fatalf("%s: _meta: %v", path, err)
	}
	for name, vars := range meta.HostVars {
		meta.HostVars[name] = ansibleValue(vars).(map[string]any)
	}

	groups := make(map[string]ansibleListGroup)
	for name, raw := range top {
		if name == "_meta" {
			continue
		}
		var g ansibleListGroup
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatalf("%s: group %s: %v", path, name, err)
		}
		groups[name] = g
	}

	return groups, meta.HostVars
}

// ansibleValue converts a value decoded with json.Decoder.UseNumber to the types of
// Host.Vars. Python's json module writes floats with a point or an exponent, integers
// without.
func ansibleValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			f, _ := v.Float64()
			return f
		}
		i, _ := v.Int64()
		return int(i)
	case []any:
		for i := range v {
			v[i] = ansibleValue(v[i])
		}
		return v
	case map[string]any:
		for key := range v {
			v[key] = ansibleValue(v[key])
		}
		return v
	default:
		return v
	}
}

// ansibleMembers returns the hosts of a group of ansible-inventory output and of its
// descendants.
func ansibleMembers(groups map[string]ansibleListGroup, name string) []string {
	members := slices.Clone(groups[name].Hosts)
	for _, child := range groups[name].Children {
		members = append(members, ansibleMembers(groups, child)...)
	}
	slices.Sort(members)

	return slices.Compact(members)
}

func TestINIMatchesAnsible(t *testing.T) {
	tests := []struct {
		fixture  string
		recorded string
	}{
		{"ansible.ini", "ini/recorded/ansible.json"},
		{"ini/values.ini", "ini/recorded/values.json"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			inv := loadFixture(t, tt.fixture)
			groups, hostVars := loadAnsibleList(t, filepath.Join("testdata", tt.recorded))

			names := hostNames(inv.Hosts)
			slices.Sort(names)
			if want := ansibleMembers(groups, allGroup); !slices.Equal(names, want) {
				t.Fatalf("hosts = %v, want %v", names, want)
			}
			for name := range groups {
				got := slices.Sorted(slices.Values(inv.Groups[name]))
				if want := ansibleMembers(groups, name); !slices.Equal(got, want) {
					t.Errorf("group %s = %v, want %v", name, got, want)
				}
			}

			dir := filepath.Join("testdata", filepath.Dir(tt.fixture))
			for _, host := range inv.Hosts {
				checkAnsibleHost(t, host, hostVars[host.Name], dir)
			}
		})
	}
}

// checkAnsibleHost compares host with the variables that ansible-inventory printed for
// it. Relative key paths are relative to dir.
func checkAnsibleHost(t *testing.T, host *Host, vars map[string]any, dir string) {
	t.Helper()

	address, port, user := host.Name, 22, currentUserName(t)
	if v, ok := vars["ansible_host"].(string); ok {
		address = v
	}
	if v, ok := vars["ansible_port"].(int); ok {
		port = v
	}
	if v, ok := vars["ansible_user"].(string); ok {
		user = v
	}
	key := ""
	if v, ok := vars["ansible_ssh_private_key_file"].(string); ok {
		key, _ = filepath.Abs(filepath.Join(dir, v))
	}
	become := false
	switch v := vars["ansible_become"].(type) {
	case bool:
		become = v
	case string:
		become = slices.Contains(ansibleTrue, strings.ToLower(v))
	}

	if host.Address != address {
		t.Errorf("%s address = %q, want %q", host.Name, host.Address, address)
	}
	if host.Port != port {
		t.Errorf("%s port = %d, want %d", host.Name, host.Port, port)
	}
	if host.User != user {
		t.Errorf("%s user = %q, want %q", host.Name, host.User, user)
	}
	if host.KeyFile != key {
		t.Errorf("%s key = %q, want %q", host.Name, host.KeyFile, key)
	}
	if host.Become != become {
		t.Errorf("%s become = %v, want %v", host.Name, host.Become, become)
	}

	want := make(map[string]any)
	for name, value := range vars {
		if !strings.HasPrefix(name, "ansible_") {
			want[name] = value
		}
	}
	if !reflect.DeepEqual(host.Vars, want) {
		t.Errorf("%s vars = %#v, want %#v", host.Name, host.Vars, want)
	}
}

func TestINIMatchesYAML(t *testing.T) {
	ini := loadFixture(t, "ansible.ini")
	yamlInventory := loadFixture(t, "ansible.yaml")

	if got, want := hostNames(ini.Hosts), hostNames(yamlInventory.Hosts); !slices.Equal(got, want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	for i, host := range ini.Hosts {
		other := *yamlInventory.Hosts[i]
		other.Pos = host.Pos
		if !reflect.DeepEqual(*host, other) {
			t.Errorf("host %s = %+v, want %+v", host.Name, *host, other)
		}
	}
	if !reflect.DeepEqual(ini.Groups, yamlInventory.Groups) {
		t.Errorf("groups = %v, want %v", ini.Groups, yamlInventory.Groups)
	}

	if len(ini.Warnings) != len(yamlInventory.Warnings) {
		t.Fatalf("warnings = %q, want %d", ini.Warnings, len(yamlInventory.Warnings))
	}
	for i, warning := range ini.Warnings {
		_, got, _ := strings.Cut(warning, ": ")
		_, want, _ := strings.Cut(yamlInventory.Warnings[i], ": ")
		if got != want {
			t.Errorf("warning %d = %q, want %q", i, got, want)
		}
	}
}

func TestINIWarningPositions(t *testing.T) {
	inv := loadFixture(t, "ansible.ini")

	want := []string{
		"testdata/ansible.ini:41:1: ansible_python_interpreter is ignored",
		"testdata/ansible.ini:62:19: ansible_become_password is ignored",
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

func TestINIGroupVariableValues(t *testing.T) {
	nested := func(depth int) string {
		return strings.Repeat("[", depth) + strings.Repeat("]", depth)
	}
	deepList := func(depth int) any {
		var list any = []any{}
		for range depth - 1 {
			list = []any{list}
		}
		return list
	}

	tests := []struct {
		text string
		want any
	}{
		{"42", 42},
		{"-7", -7},
		{"- 7", -7},
		{"+3", 3},
		{"-(4)", -4},
		{"0x1F", 31},
		{"0o17", 15},
		{"0b101", 5},
		{"1_000", 1000},
		{"00", 0},
		{"-9223372036854775808", math.MinInt64},
		{"0.5", 0.5},
		{"1e3", 1000.0},
		{"2.", 2.0},
		{".5", 0.5},
		{"007.5", 7.5},
		{"True", true},
		{"False", false},
		{"None", nil},
		{"'a b'", "a b"},
		{`"it's"`, "it's"},
		{`'tab\tx'`, "tab\tx"},
		{`'\x41\101\u00e9\U0001F600'`, "AAé😀"},
		{`'\q'`, `\q`},
		{`r'\d+'`, `\d+`},
		{`u'x'`, "x"},
		{`'con' "cat"`, "concat"},
		{`'''a'b'''`, "a'b"},
		{"[1, 'two', [3.5]]", []any{1, "two", []any{3.5}}},
		{"[1, 2,]", []any{1, 2}},
		{"[]", []any{}},
		{"(1,)", []any{1}},
		{"()", []any{}},
		{"(5)", 5},
		{"{}", map[string]any{}},
		{"{'a': 1, 2: 'b', 'a': 3}", map[string]any{"a": 3, "2": "b"}},
		{"{'<<': 1}", map[string]any{"<<": 1}},
		{"30  # seconds", 30},
		{nested(200), deepList(200)},
		// Text that is not a Python literal stays as it is.
		{"hello # not a comment", "hello # not a comment"},
		{"yes", "yes"},
		{"true", "true"},
		{"007", "007"},
		{"0_7", "0_7"},
		{"10.0.0.1", "10.0.0.1"},
		{"1.2.3", "1.2.3"},
		{"1+2", "1+2"},
		{"-True", "-True"},
		{"-(-1)", "-(-1)"},
		{"[alice, bob]", "[alice, bob]"},
		{"f'x'", "f'x'"},
		{"'a' b'c'", "'a' b'c'"},
		{"{**a}", "{**a}"},
		{"1if 1 else 2", "1if 1 else 2"},
		{`'\x4'`, `'\x4'`},
		{`'\U00110000'`, `'\U00110000'`},
		{"set", "set"},
		{`C:\temp`, `C:\temp`},
		{"'unterminated", "'unterminated"},
		{nested(201), nested(201)},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			inv := parseINIText(t, "h1\n[all:vars]\nvalue = "+tt.text+"\n")

			got := findHost(t, inv, "h1").Vars["value"]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestINIHostLineWords(t *testing.T) {
	inv := parseINIText(t, `h1 a='x y' b="q\"r\\s\t" c=x\ y d=it"'"s f='' e=x#comment f=1
h1 users='["alice", "bob"]' zip="'007'" g=1 g=2 h="{'k': [1]}"
`)

	want := map[string]any{
		"a": "x y", "b": `q"r\s\t`, "c": "x y", "d": "it's", "e": "x", "f": "",
		"users": []any{"alice", "bob"}, "zip": "007", "g": 2, "h": map[string]any{"k": []any{1}},
	}
	if got := findHost(t, inv, "h1").Vars; !reflect.DeepEqual(got, want) {
		t.Errorf("vars = %#v, want %#v", got, want)
	}
	if len(inv.Warnings) != 1 {
		t.Fatalf("warnings = %q, want one about g", inv.Warnings)
	}
	if want := "inline.ini:2:45: g is set twice on this line"; !strings.HasPrefix(
		inv.Warnings[0], want) {
		t.Errorf("warning = %q, want prefix %q", inv.Warnings[0], want)
	}
}

func TestINILiteralWarning(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"h1 users=[alice,bob]\n", "inline.ini:1:10: the value of users is not a valid " +
			`Python literal, so it is read as the string "[alice,bob]"; quote the items ` +
			`and the whole value, as in docker_users='["alice", "bob"]'`},
		{"h1\n[all:vars]\nusers = [alice, bob]\n", "inline.ini:3:9: the value of users is " +
			`not a valid Python literal, so it is read as the string "[alice, bob]"; ` +
			`quote the items, as in docker_users = ["alice", "bob"]`},
	}
	for _, tt := range tests {
		inv := parseINIText(t, tt.text)
		if len(inv.Warnings) != 1 || inv.Warnings[0] != tt.want {
			t.Errorf("warnings = %q, want [%q]", inv.Warnings, tt.want)
		}
	}
}

func TestINIGroups(t *testing.T) {
	inv := parseINIText(t, `
# Hosts before the first section are in ungrouped.
lone ansible_host=10.0.0.9
[prod:children]
web   # defined below
db
[ungrouped:vars]
only_ungrouped = 1
[all:vars]
level = all
ansible_user = deploy
[web]
web[01:03] ansible_become=yes
[web:vars]
level = web
[db]
db-[a:b]:2200
db-c:2201 ansible_port=2300
[everything]
[everything:vars]
level = everything
ansible_group_priority = 5
[everything:children]
prod
[all]
top
`)

	tests := []struct {
		name   string
		port   int
		become bool
		groups []string
		vars   map[string]any
	}{
		{"lone", 22, false, []string{"all", "ungrouped"},
			map[string]any{"level": "all", "only_ungrouped": 1}},
		{"web01", 22, true, []string{"all", "everything", "prod", "web"},
			map[string]any{"level": "web"}},
		{"db-a", 2200, false, []string{"all", "db", "everything", "prod"},
			map[string]any{"level": "everything"}},
		{"db-c", 2300, false, []string{"all", "db", "everything", "prod"},
			map[string]any{"level": "everything"}},
		// As in Ansible, a host listed only under [all] is in ungrouped too.
		{"top", 22, false, []string{"all", "ungrouped"},
			map[string]any{"level": "all", "only_ungrouped": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := findHost(t, inv, tt.name)
			if host.User != "deploy" {
				t.Errorf("user = %q, want deploy from [all:vars]", host.User)
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

	wantOrder := []string{"lone", "web01", "web02", "web03", "db-a", "db-b", "db-c", "top"}
	if got := hostNames(inv.Hosts); !slices.Equal(got, wantOrder) {
		t.Errorf("hosts = %v, want %v", got, wantOrder)
	}
	if want := []string{"lone", "top"}; !slices.Equal(inv.Groups["ungrouped"], want) {
		t.Errorf("ungrouped = %v, want %v", inv.Groups["ungrouped"], want)
	}
}

func TestINIHostPatterns(t *testing.T) {
	inv := parseINIText(t, `[web]
node[1:10:3].example.com
[2001:db8::5]:2200
2001:db8::6
web-[x:z]
`)

	want := []string{
		"node1.example.com", "node4.example.com", "node7.example.com", "node10.example.com",
		"2001:db8::5", "2001:db8::6", "web-x", "web-y", "web-z",
	}
	if got := hostNames(inv.Hosts); !slices.Equal(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	if port := findHost(t, inv, "2001:db8::5").Port; port != 2200 {
		t.Errorf("2001:db8::5 port = %d, want 2200", port)
	}
	if port := findHost(t, inv, "2001:db8::6").Port; port != 22 {
		t.Errorf("2001:db8::6 port = %d, want 22: a bare IPv6 address has no port", port)
	}
}

func TestINILineEndings(t *testing.T) {
	inv := parseINIText(t, "\uFEFF[web]\r\nweb1 a=1\r\n\r\n[web:vars]\r\nb = 'x'\r\n")

	want := map[string]any{"a": 1, "b": "x"}
	if got := findHost(t, inv, "web1").Vars; !reflect.DeepEqual(got, want) {
		t.Errorf("vars = %#v, want %#v", got, want)
	}
}

func TestINIErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []wantError
	}{
		{"connection values", "web1 ansible_port=abc ansible_become=maybe\n" +
			`web2 ansible_port="12x" ansible_host='10.0.0.1; rm'` + "\n", []wantError{
			{1, 19, `invalid ansible_port "abc": it must be an integer from 1 to 65535`},
			{1, 38, `invalid ansible_become "maybe": it must be true or false`},
			{2, 20, `invalid ansible_port "12x"`},
			{2, 39, `invalid ansible_host "10.0.0.1; rm": it contains ';'`},
		}},
		{"words", "web1 docker_users=['alice', 'bob']\nweb2 motd=hello world\n" +
			"web3 note=\"unterminated\nweb4 path=C:\\\n", []wantError{
			{1, 29, `invalid host line: expected NAME=VALUE after the host, got "bob]"; a ` +
				`list or dict with spaces must be quoted as a whole`},
			{2, 17, `got "world"; quote values that contain spaces, as in motd='hello world'`},
			{3, 11, `invalid host line: this quote is never closed`},
			{4, 13, "invalid host line: a backslash at the end of the line escapes nothing"},
		}},
		{"host patterns", "[web]\nweb1: a=1\nw[3:1]\n---x\n  ---\n", []wantError{
			{2, 5, `invalid host "web1:": a ':' after the host name must be followed by ` +
				"the port"},
			{3, 1, `invalid host key "w[3:1]": invalid host range [3:1]: 3 is greater than 1`},
			{4, 1, `host ---x sets no address, and its name is not a valid address`},
			{5, 3, "'---' starts a YAML document, but this file is read as an INI inventory"},
		}},
		{"infinite number", "w1 huge=1e400 tiny=-1e400\n", []wantError{
			{1, 9, "invalid value of huge: the number is too large for a 64-bit float and " +
				"reads as infinity; write it in quotes to keep it as a string"},
			{1, 20, "invalid value of tiny: the number is too large"},
		}},
		{"unsupported values", "w1 big=99999999999999999999 c=1+2j\n" +
			`w1 s='{1, 2}' n="'\N{BULLET}'" k="{(1,): 2}" l='[1, {2}]'` + "\n" +
			"[all:vars]\nb = b'x'\nsurrogate = '\\ud800'\nempty_set = set()\n", []wantError{
			{1, 8, "invalid value of big: the integer 99999999999999999999 is outside the " +
				"64-bit range; write it in quotes to keep it as a string"},
			{1, 31, "invalid value of c: Python reads it as a complex number"},
			{2, 7, "invalid value of s: Python reads it as a set"},
			{2, 19, `invalid value of n: \N{...} escapes are not supported`},
			{2, 36, "invalid value of k: a dict key must be a string or an integer"},
			{2, 53, "invalid value of l: Python reads it as a set"},
			{4, 5, "invalid value of b: Python reads it as bytes"},
			{5, 14, `invalid value of surrogate: \ud800 is a UTF-16 surrogate`},
			{6, 13, "invalid value of empty_set: Python reads it as a set"},
		}},
		{"sections", "[web servers]\nignored\n[web:child]\nignored\n[web:children]\n" +
			"dbb\nall\nbad child\nweb\n[dbs:vars]\nx = 1\n[db]\ndb1\n[.bad]\n", []wantError{
			{1, 1, `invalid section header "[web servers]": write [GROUP], [GROUP:vars] ` +
				"or [GROUP:children], with no spaces inside the brackets"},
			{3, 6, `unknown section type "child" in [web:child]: write [web] for hosts, ` +
				"[web:vars] for variables or [web:children] for child groups"},
			{6, 1, `group dbb in [web:children] is not defined (did you mean "db"?); ` +
				"define it with a [dbb] or [dbb:children] section, which may be empty"},
			{7, 1, "group all cannot be a child of web"},
			{8, 1, `invalid line in [web:children]: expected one group name, got "bad child"`},
			{9, 1, "group web is its own ancestor (web > web); remove it from the children " +
				"of web"},
			{10, 2, "[dbs:vars] sets variables of group dbs, which is not defined " +
				`(did you mean "db"?)`},
			{14, 2, `invalid group name ".bad"`},
		}},
		{"vars lines", "h1\n[all:vars]\n= 5\nnovalue\n1x = 2\nansible_port = 0\n", []wantError{
			{3, 1, `invalid variable name ""`},
			{4, 1, `invalid line in [all:vars]: expected NAME = VALUE, got "novalue"`},
			{5, 1, `invalid variable name "1x"`},
			{6, 16, `invalid ansible_port "0": it must be an integer from 1 to 65535`},
		}},
		{"conflict", "[a]\nh1 ansible_host=10.0.0.1\n[b]\nh1 ansible_host=10.0.0.2\n",
			[]wantError{
				{4, 17, `host h1: address "10.0.0.2" from its entry in group b conflicts ` +
					`with "10.0.0.1" from its entry in group a at line 2, column 17`},
			}},
		{"no hosts", "; nothing but groups\n[web]\n[web:vars]\nx = 1\n", []wantError{
			{1, 1, "the inventory lists no hosts; add hosts under a [GROUP] section, or " +
				"above the first section"},
		}},
		{"invalid UTF-8", "[web]\nweb1 a=\xff\n", []wantError{
			{2, 8, "invalid text: the line is not valid UTF-8; save the file as UTF-8"},
		}},
		{"unicode columns", "[web]\nwébé ansible_port=x\n", []wantError{
			{2, 19, `invalid ansible_port "x"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("inline.ini", []byte(tt.text))
			if err == nil {
				t.Fatalf("Parse returned no error, want %d", len(tt.want))
			}
			checkErrors(t, errorList(t, err), "inline.ini", tt.want)
		})
	}
}

func TestSyntaxDetection(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		text  string
		hosts []string
		err   string // substring of the error, "" if the text parses
	}{
		{"ini section", "hosts", "[web]\nweb1\n", []string{"web1"}, ""},
		{"ini host", "hosts", "web1\n", []string{"web1"}, ""},
		{"ini host with variables", "hosts", "web1 ansible_host=10.0.0.1\n",
			[]string{"web1"}, ""},
		{"ini after comments", "hosts", "; a comment\n# another\n\nweb1:2222\n",
			[]string{"web1"}, ""},
		{"ini IPv6 host", "hosts", "[2001:db8::1]:2222\n", []string{"2001:db8::1"}, ""},
		{"yaml key", "hosts", "all:\n  hosts:\n    web1:\n", []string{"web1"}, ""},
		{"yaml key with value", "hosts", "hosts: {web1: {}}\n", []string{"web1"}, ""},
		{"yaml quoted key", "hosts", "\"all\":\n  hosts:\n    web1:\n", []string{"web1"}, ""},
		{"yaml document marker", "hosts", "---\nall:\n  hosts:\n    web1:\n",
			[]string{"web1"}, ""},
		{"json", "hosts", `{"all": {"hosts": {"web1": null}}}`, []string{"web1"}, ""},
		{"yaml tag", "hosts", "!!map\nall: {hosts: {web1: }}\n", []string{"web1"}, ""},
		{"yaml anchor", "hosts", "&top\nall: {hosts: {web1: }}\n", []string{"web1"}, ""},
		{"yaml explicit key", "hosts", "? all\n: {hosts: {web1: }}\n", []string{"web1"}, ""},
		{"yaml text block", "hosts", "all:\n  vars:\n    motd: |\n      [banner]\n" +
			"      web: x\n  hosts:\n    web1:\n", []string{"web1"}, ""},
		{"yaml then ini", "hosts", "all:\n  hosts:\n    web1:\n[web]\nweb2\n", nil,
			`hosts:4:1: cannot tell the inventory format: line 1 ("all:") is YAML, but ` +
				"this line is an INI section header; write the whole file in one format"},
		{"ini then yaml", "hosts", "[web]\nweb1\nall:\n  hosts:\n", nil,
			`hosts:3:1: cannot tell the inventory format: line 1 ("[web]") is INI, but ` +
				"this line is a YAML mapping key"},
		{"ini then document marker", "hosts", "web1\n---\n", nil,
			"this line is a YAML document marker"},
		{"only ini comments", "hosts", "; nothing yet\n", nil, "hosts: inventory is empty"},
		{"yaml list", "hosts", "- web1\n", nil, "the top level of an inventory must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse(tt.file, []byte(tt.text))
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
			if len(inv.Warnings) != 0 {
				t.Errorf("warnings = %q, want none", inv.Warnings)
			}
		})
	}
}

func TestSyntaxExtensionWarning(t *testing.T) {
	tests := []struct {
		file string
		text string
		want string // "" for no warning
	}{
		{"hosts.yaml", "# lab\n[web]\nweb1\n", "hosts.yaml:2:1: the file name ends in .yaml, " +
			"but the content is INI (decided by this line), so the file is read as an INI " +
			"inventory"},
		{"hosts.INI", "all:\n  hosts:\n    web1:\n", "hosts.INI:1:1: the file name ends in " +
			".ini, but the content is YAML"},
		{"hosts.ini", "[web]\nweb1\n", ""},
		{"hosts.yml", "all:\n  hosts:\n    web1:\n", ""},
		{"hosts", "[web]\nweb1\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			inv, err := Parse(tt.file, []byte(tt.text))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.want == "" {
				if len(inv.Warnings) != 0 {
					t.Errorf("warnings = %q, want none", inv.Warnings)
				}
				return
			}
			if len(inv.Warnings) != 1 || !strings.HasPrefix(inv.Warnings[0], tt.want) {
				t.Errorf("warnings = %q, want one starting %q", inv.Warnings, tt.want)
			}
		})
	}
}

// checkErrors compares errs with want, in order, and reports errors beyond want.
func checkErrors(t *testing.T, errs []*Error, file string, want []wantError) {
	t.Helper()

	for i, w := range want {
		if i >= len(errs) {
			t.Errorf("missing error %d: %d:%d: %s", i, w.line, w.column, w.msg)
			continue
		}
		got := errs[i]
		if got.Pos.File != file {
			t.Errorf("error %d file = %q, want %q", i, got.Pos.File, file)
		}
		if got.Pos.Line != w.line || got.Pos.Column != w.column {
			t.Errorf("error %d at %d:%d, want %d:%d: %s", i, got.Pos.Line, got.Pos.Column,
				w.line, w.column, got.Msg)
		}
		if !strings.Contains(got.Msg, w.msg) {
			t.Errorf("error %d = %q, want it to contain %q", i, got.Msg, w.msg)
		}
	}
	for _, extra := range errs[min(len(want), len(errs)):] {
		t.Errorf("unexpected error: %v", extra)
	}
}
