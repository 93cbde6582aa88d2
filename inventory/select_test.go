package inventory

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const selectInventory = `
groups:
  web:
    hosts: {web1: {}, web2: {}, web3: {}}
  db:
    hosts: {db1: {}, db2: {}}
  prod:
    hosts: {web1: {}, db1: {}}
  canary:
    hosts: {web3: {}}
  spare:
    hosts: {}
hosts:
  "::1": {}
  lone: {}
`

func TestSelect(t *testing.T) {
	inv := parseText(t, selectInventory)
	every := []string{"web1", "web2", "web3", "db1", "db2", "::1", "lone"}

	tests := []struct {
		limit string
		want  []string
	}{
		{"", every},
		{"all", every},
		{"*", every},
		{"web", []string{"web1", "web2", "web3"}},
		{"web1", []string{"web1"}},
		{"db,web", []string{"web1", "web2", "web3", "db1", "db2"}},
		{"db:web", []string{"web1", "web2", "web3", "db1", "db2"}},
		{"web:!web2", []string{"web1", "web3"}},
		{"!web2:web", []string{"web1", "web3"}},
		{"web:&prod", []string{"web1"}},
		{"web,&prod,!db1", []string{"web1"}},
		{"!web", []string{"db1", "db2", "::1", "lone"}},
		{"&prod", []string{"web1", "db1"}},
		{"web*", []string{"web1", "web2", "web3"}},
		{"d*", []string{"db1", "db2"}},
		{"w?b[12]", []string{"web1", "web2"}},
		{"can*", []string{"web3"}},
		{"ungrouped", []string{"::1", "lone"}},
		{"::1", []string{"::1"}},
		{"lone,::1", []string{"::1", "lone"}},
		{" web1 , db1 ,", []string{"web1", "db1"}},
	}
	for _, tt := range tests {
		t.Run(tt.limit, func(t *testing.T) {
			hosts, err := inv.Select(tt.limit)
			if err != nil {
				t.Fatalf("Select(%q): %v", tt.limit, err)
			}
			if got := hostNames(hosts); !slices.Equal(got, tt.want) {
				t.Errorf("Select(%q) = %v, want %v", tt.limit, got, tt.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	inv := parseText(t, selectInventory)

	tests := []struct {
		limit   string
		msg     string
		noMatch bool
	}{
		{"wbe", `select "wbe": pattern "wbe": no hosts matched; similar names: web`, true},
		{"web,nope", `pattern "nope": no hosts matched`, true},
		{"spare", `pattern "spare": no hosts matched: the group is empty`, true},
		{"prod:&web:!web1", `select "prod:&web:!web1": no hosts matched after applying`, true},
		{"!all", "no hosts matched after applying the & and ! patterns", true},
		{"~web.*", "regular expressions are not supported; use a glob such as web*", false},
		{"web[", `pattern "web[": invalid glob: syntax error in pattern`, false},
		{"web,!", "empty pattern after '!' or '&'", false},
	}
	for _, tt := range tests {
		t.Run(tt.limit, func(t *testing.T) {
			hosts, err := inv.Select(tt.limit)
			if err == nil {
				t.Fatalf("Select(%q) = %v, want an error", tt.limit, hostNames(hosts))
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.msg)
			}
			if errors.Is(err, ErrNoMatch) != tt.noMatch {
				t.Errorf("errors.Is(err, ErrNoMatch) = %v, want %v", !tt.noMatch, tt.noMatch)
			}
		})
	}
}

func TestSelectReportsEveryBadPattern(t *testing.T) {
	inv := parseText(t, selectInventory)

	_, err := inv.Select("nope1,web,nope2")

	for _, pattern := range []string{`"nope1"`, `"nope2"`} {
		if err == nil || !strings.Contains(err.Error(), pattern) {
			t.Errorf("error = %v, want it to name %s", err, pattern)
		}
	}
}

func TestSelectReturnsCopy(t *testing.T) {
	inv := parseText(t, selectInventory)

	hosts, err := inv.Select("")
	if err != nil {
		t.Fatal(err)
	}
	hosts[0] = nil

	if inv.Hosts[0] == nil {
		t.Errorf("changing the result of Select changed Inventory.Hosts")
	}
}
