package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// stateDir returns the directory that keeps the operator's copy of every run: its results
// and each host's undo journal. FLEETHARDEN_STATE_DIR overrides the default, which follows
// the XDG base directory convention.
func stateDir() (string, error) {
	if dir := os.Getenv("FLEETHARDEN_STATE_DIR"); dir != "" {
		return dir, nil
	}
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "fleetharden"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the state directory: %w; set FLEETHARDEN_STATE_DIR", err)
	}
	return filepath.Join(home, ".local", "state", "fleetharden"), nil
}

// runDir creates and returns the directory of one run's records, readable by the operator
// only, since journals hold the old content of configuration files.
func runDir(runID string) (string, error) {
	base, err := stateDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(base, "runs", runID)
	if err := os.MkdirAll(filepath.Join(dir, "journal"), 0o700); err != nil {
		return "", fmt.Errorf("create run records: %w", err)
	}
	return dir, nil
}
