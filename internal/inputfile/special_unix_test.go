//go:build unix

package inputfile

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRejectsSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/zero", fifo, t.TempDir()} {
		_, err := Read(p)
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Read(%s) = %v, want a not-a-regular-file error", p, err)
		}
	}
}
