package inventory

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestExpandHostKey(t *testing.T) {
	tests := []struct {
		key   string
		names []string
		port  int
	}{
		{"web1", []string{"web1"}, 0},
		{"web1.example.com:2222", []string{"web1.example.com"}, 2222},
		{"10.0.0.1:22", []string{"10.0.0.1"}, 22},
		{"2001:db8::1", []string{"2001:db8::1"}, 0},
		{"[2001:db8::1]:2200", []string{"2001:db8::1"}, 2200},
		{"web[1:3]", []string{"web1", "web2", "web3"}, 0},
		{"web[01:03].example.com", []string{"web01.example.com", "web02.example.com",
			"web03.example.com"}, 0},
		{"web[:2]", []string{"web0", "web1", "web2"}, 0},
		{"web[0:10:5]", []string{"web0", "web5", "web10"}, 0},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}, 0},
		{"db-[y:B]", []string{"db-y", "db-z", "db-A", "db-B"}, 0},
		{"db-[a:e:2]", []string{"db-a", "db-c", "db-e"}, 0},
		{"r[1:2]n[a:b]", []string{"r1na", "r1nb", "r2na", "r2nb"}, 0},
		{"web[1:2]:2022", []string{"web1", "web2"}, 2022},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			names, port, err := expandHostKey(tt.key, maxRangeHosts)
			if err != nil {
				t.Fatalf("expandHostKey(%q): %v", tt.key, err)
			}
			if !slices.Equal(names, tt.names) {
				t.Errorf("names = %v, want %v", names, tt.names)
			}
			if port != tt.port {
				t.Errorf("port = %d, want %d", port, tt.port)
			}
		})
	}
}

func TestExpandHostKeyErrors(t *testing.T) {
	tests := []struct {
		key     string
		problem string
	}{
		{"web:0", "the port 0 must be an integer from 1 to 65535"},
		{"web:70000", "the port 70000 must be an integer from 1 to 65535"},
		{"web[1:3", "has no matching ']'"},
		{"web[1]", "write [begin:end] or [begin:end:step]"},
		{"web[1:2:3:4]", "write [begin:end] or [begin:end:step]"},
		{"web[3:1]", "3 is greater than 1"},
		{"web[c:a]", "c comes after a"},
		{"web[1:5:0]", "the step must be a positive integer"},
		{"web[1:5:-1]", "the step must be a positive integer"},
		{"web[01:100]", "a zero-padded range needs a begin and an end of the same length"},
		{"web[1:z]", "it must run between two non-negative integers or two letters"},
		{"web[-1:3]", "it must run between two non-negative integers or two letters"},
		{"web[1:]", "it must run between two non-negative integers or two letters"},
		{"web[0:10000]", errTooManyHosts.Error()},
		{"a[0:999]b[0:99]", errTooManyHosts.Error()},
		{"w[0:9223372036854775807:9223372036854775807]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			names, _, err := expandHostKey(tt.key, maxRangeHosts)
			if tt.problem == "" {
				if err != nil {
					t.Errorf("error = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("error = %v (names %v), want it to contain %q", err, names, tt.problem)
			}
		})
	}
}

func TestHostRangeLimits(t *testing.T) {
	_, err := Parse("inline.yaml", []byte("all:\n  hosts:\n    web[0:10000]:\n"))
	want := `inline.yaml:3:5: invalid host key "web[0:10000]": it expands to more than 10000 hosts`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}

	var text strings.Builder
	text.WriteString("all:\n  hosts:\n")
	for i := range 11 {
		fmt.Fprintf(&text, "    rack%d-[0:9999]:\n", i)
	}
	_, err = Parse("inline.yaml", []byte(text.String()))
	want = `inline.yaml:13:5: invalid host key "rack10-[0:9999]": the host ranges of this file ` +
		"expand to more than 100000 hosts; split the inventory"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
