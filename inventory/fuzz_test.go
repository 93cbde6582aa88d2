package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParse checks that Parse returns either an inventory that keeps its invariants or
// only *Error values, and never panics or hangs. The seed corpus is every fixture under
// testdata, the example inventory and the inputs below.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.yaml", "testdata/invalid/*.yaml", "../*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, seed := range []string{
		"hosts: {a: {}}",
		"all: {hosts: {'w[1:3]:22': {ansible_become: 'yes'}}}",
		"all: {children: {a: {children: {a: {hosts: {h: }}}}}}",
		"hosts: {a: &x {vars: {v: 1}}, b: {<<: *x, port: 2}}",
		"a: &a [1]\nhosts: {h: {vars: {x: [*a, *a]}}}",
		"hosts:\n  h:\n    vars: !!map {k: !!binary aGk=}",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkFuzzErrors(t, "fuzz.yaml", inv, err)
			return
		}
		checkFuzzInventory(t, inv)
	})
}

// FuzzParseINI checks Parse on INI inventories as FuzzParse checks it on YAML ones. The
// seed corpus is every INI fixture under testdata and the inputs below, which reach the
// shell-style word splitting, the Python literals and the section rules.
func FuzzParseINI(f *testing.F) {
	for _, pattern := range []string{"testdata/*.ini", "testdata/ini/*.ini"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, seed := range []string{
		"web1\n",
		"[web]\nw[1:3]:2222 ansible_become=yes a='x y' b=\"q\\\"r\" c=x\\ y d=e#f\n",
		"h\n[all:vars]\nv = {'a': [1, (2,), -3.5e1, 0x_1f], 2: r'\\d' u\"x\"}\n",
		"h\n[all:vars]\nv = '\\x41\\101\\u00e9\\N{BULLET}' 'b' # c\n",
		"h v='[1, {2}, b\"x\", 1+2j, set()]' w=[a,b] x=\"'unterminated\n",
		"[a:children]\nb\n[b:children]\na\n[b]\nh\n[c:vars]\nx=1\n",
		"[web servers]\n[web:child]\n[2001:db8::1]:22\n  ---\nweb1: a=1\n",
		"\uFEFF; comment\r\n[web]\r\nw\xff\r\n",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.ini", data)
		if err != nil {
			checkFuzzErrors(t, "fuzz.ini", inv, err)
			return
		}
		checkFuzzInventory(t, inv)
	})
}

func checkFuzzErrors(t *testing.T, file string, inv *Inventory, err error) {
	if inv != nil {
		t.Errorf("Parse returned an inventory and an error")
	}

	list := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	}
	if len(list) == 0 || len(list) > maxErrors+1 {
		t.Errorf("got %d errors, want 1 to %d", len(list), maxErrors+1)
	}
	for _, e := range list {
		var inventoryError *Error
		if !errors.As(e, &inventoryError) {
			t.Fatalf("error %q (%T) is not an *Error", e, e)
		}
		if inventoryError.Pos.File != file || inventoryError.Pos.Line < 0 ||
			inventoryError.Pos.Column < 0 {
			t.Errorf("error %q has position %+v", e, inventoryError.Pos)
		}
		if inventoryError.Msg == "" {
			t.Errorf("error at %v has an empty message", inventoryError.Pos)
		}
	}
}

func checkFuzzInventory(t *testing.T, inv *Inventory) {
	if len(inv.Hosts) == 0 {
		t.Fatalf("Parse returned no hosts and no error")
	}

	seen := make(map[string]bool)
	for _, host := range inv.Hosts {
		if seen[host.Name] {
			t.Errorf("host %q is listed twice", host.Name)
		}
		seen[host.Name] = true

		if problem := checkHostName(host.Name); problem != "" {
			t.Errorf("host %q has an invalid name: %s", host.Name, problem)
		}
		if problem := checkAddress(host.Address); problem != "" {
			t.Errorf("host %q has an invalid address %q: %s", host.Name, host.Address, problem)
		}
		if host.Port < 1 || host.Port > 65535 {
			t.Errorf("host %q has port %d", host.Name, host.Port)
		}
		if !slices.IsSorted(host.Groups) || !slices.Contains(host.Groups, allGroup) {
			t.Errorf("host %q has groups %v, want them sorted with all", host.Name, host.Groups)
		}
		if host.Vars == nil {
			t.Errorf("host %q has nil vars", host.Name)
		}
	}

	if len(inv.Groups[allGroup]) != len(inv.Hosts) {
		t.Errorf("group all has %d hosts, want %d", len(inv.Groups[allGroup]), len(inv.Hosts))
	}
	selected, err := inv.Select(allGroup)
	if err != nil || len(selected) != len(inv.Hosts) {
		t.Errorf("Select(all) = %d hosts, %v, want %d", len(selected), err, len(inv.Hosts))
	}
}
