package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/report"
)

func TestLoadRunsNewestFirst(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FLEETHARDEN_STATE_DIR", dir)
	base := time.Date(2026, 12, 4, 19, 42, 14, 0, time.UTC)
	// Three runs of the same second, whose random suffixes do not follow their order.
	runs := map[string]time.Duration{
		"20261204T194214Z-ffffff": 822 * time.Millisecond,
		"20261204T194214Z-000000": 903 * time.Millisecond,
		"20261204T194214Z-888888": 841 * time.Millisecond,
	}
	for id, offset := range runs {
		data, err := json.Marshal(report.Run{RunID: id, Start: base.Add(offset)})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "runs", id), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "runs", id, "results.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := loadRuns()

	if err != nil {
		t.Fatal(err)
	}
	want := []string{"20261204T194214Z-000000", "20261204T194214Z-888888", "20261204T194214Z-ffffff"}
	for i, r := range got {
		if i >= len(want) || r.RunID != want[i] {
			t.Fatalf("run %d = %s, want the order %v", i, r.RunID, want)
		}
	}
}
