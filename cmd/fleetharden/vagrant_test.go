package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runFromVagrant runs `fleetharden inventory from-vagrant args...` with stdin as standard
// input and returns the exit status, standard output and standard error.
func runFromVagrant(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()

	var stdout, stderr bytes.Buffer
	args = append([]string{"inventory", "from-vagrant"}, args...)
	err := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)

	return exitCode(err, &stderr), stdout.String(), stderr.String()
}

func TestFromVagrantCommand(t *testing.T) {
	recorded := filepath.Join("..", "..", "inventory", "testdata", "vagrant")
	input, err := os.ReadFile(filepath.Join(recorded, "virtualbox.ssh-config"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(recorded, "virtualbox.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"file", "", []string{filepath.Join(recorded, "virtualbox.ssh-config")}},
		{"dash", string(input), []string{"-"}},
		{"standard input", string(input), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runFromVagrant(t, tt.stdin, tt.args...)

			if code != exitOK {
				t.Fatalf("exit status = %d, want 0; stderr: %s", code, stderr)
			}
			if stdout != string(want) {
				t.Errorf("stdout = %q, want the golden inventory", stdout)
			}
		})
	}
}

func TestFromVagrantCommandErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"missing file", "", []string{filepath.Join(t.TempDir(), "ssh-config")},
			"error: open vagrant ssh-config: open "},
		{"empty input", "", nil, "error: read vagrant ssh-config: no Host block found"},
		{"not ssh-config", "A Vagrant environment or target machine is required\n", nil,
			"error: read vagrant ssh-config: line 1: expected a Host line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runFromVagrant(t, tt.stdin, tt.args...)

			if code != exitBadInput {
				t.Errorf("exit status = %d, want %d", code, exitBadInput)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, tt.want) {
				t.Errorf("stderr = %q, want prefix %q", stderr, tt.want)
			}
		})
	}
}
