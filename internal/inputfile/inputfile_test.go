package inputfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRegularFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte("hosts: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := Read(p)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if string(data) != "hosts: {}\n" {
		t.Errorf("Read = %q", data)
	}
}

func TestReadRejectsHugeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Read of a file over the limit = %v, want a size error", err)
	}
}
