package runner

import (
	"fmt"
	"testing"
)

func TestParseSerialAndBatches(t *testing.T) {
	cases := []struct {
		spec  string
		hosts int
		want  string
	}{
		{"", 5, "[[0 5]]"},
		{"1", 3, "[[0 1] [1 2] [2 3]]"},
		{"1,100%", 5, "[[0 1] [1 5]]"},
		{"1,10%,100%", 30, "[[0 1] [1 4] [4 30]]"},
		{"50%", 3, "[[0 1] [1 2] [2 3]]"},
		{"2,5", 12, "[[0 2] [2 7] [7 12]]"},
		{"10", 4, "[[0 4]]"},
	}
	for _, tc := range cases {
		sizes, err := ParseSerial(tc.spec)
		if err != nil {
			t.Fatalf("ParseSerial(%q): %v", tc.spec, err)
		}
		if got := fmt.Sprint(batches(tc.hosts, sizes)); got != tc.want {
			t.Errorf("%q over %d hosts = %s, want %s", tc.spec, tc.hosts, got, tc.want)
		}
	}
}

func TestParseSerialRejects(t *testing.T) {
	for _, spec := range []string{"0", "-1", "x", "0%", "101%", "1,,2", "5.5"} {
		if _, err := ParseSerial(spec); err == nil {
			t.Errorf("ParseSerial(%q) succeeded, want an error", spec)
		}
	}
}
