package inventory

import (
	"strings"
	"testing"
)

func TestCheckAddressDigitsAndDots(t *testing.T) {
	tests := []struct {
		address string
		problem string
	}{
		{"10.0.0.30", ""},
		{"10.0.0.300", "not a valid IPv4 address"},
		{"10.0.0", "not a valid IPv4 address"},
		{"web1.example.org", ""},
		{"2001:db8::1", ""},
	}
	for _, tt := range tests {
		got := checkAddress(tt.address)
		if tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
			t.Errorf("checkAddress(%q) = %q, want %q", tt.address, got, tt.problem)
		}
	}
}
