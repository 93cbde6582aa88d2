package inventory

import (
	"strings"
	"testing"
)

func TestRejectsUnsafeHostNames(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"slash", "hosts:\n  a/b: {}\n", "must not contain slashes"},
		{"dot dot", "hosts:\n  '..': {}\n", "must not be . or .."},
		{"traversal", "hosts:\n  ../../tmp/x: {}\n", "must not contain slashes"},
		{"port in address", "hosts:\n  h1: {address: '127.0.0.1:2222'}\n", "set the port with the port field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("inv.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAcceptsIPv6Address(t *testing.T) {
	inv, err := Parse("inv.yaml", []byte("hosts:\n  h1: {address: 'fd00::1'}\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := inv.Hosts[0].Address; got != "fd00::1" {
		t.Errorf("address = %q, want fd00::1", got)
	}
}
