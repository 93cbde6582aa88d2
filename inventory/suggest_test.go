package inventory

import (
	"slices"
	"testing"
)

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"hosts", "hosts", 0},
		{"hots", "hosts", 1},
		{"adress", "address", 1},
		{"wbe", "web", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3},
		{"grüße", "grusse", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	keys := []string{"address", "port", "user", "key", "become", "vars"}
	names := []string{"web", "web01.example.com", "db1", "dbx"}

	tests := []struct {
		name       string
		candidates []string
		contained  bool
		want       []string
	}{
		{"adress", keys, false, []string{"address"}},
		{"USER", keys, false, []string{"user"}},
		{"key_file", keys, false, []string{"key"}},
		{"docker_users", keys, false, nil},
		{"zzz", keys, false, nil},
		{"db", names, true, []string{"db1", "dbx"}},
		{"web", names, true, []string{"web", "web01.example.com"}},
		{"web", names, false, []string{"web", "web01.example.com"}},
		{"example", names, true, []string{"web01.example.com"}},
		{"example", names, false, nil},
	}
	for _, tt := range tests {
		got := nearest(tt.name, tt.candidates, 3, tt.contained)
		if !slices.Equal(got, tt.want) {
			t.Errorf("nearest(%q, contained %v) = %v, want %v", tt.name, tt.contained, got, tt.want)
		}
	}
}
