package tasks

import (
	"io/fs"
	"syscall"
	"testing"
	"time"
)

// makeFIFO creates a named pipe at path, or skips the test where it cannot.
func makeFIFO(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
}

// changeTime returns the status change time (ctime) of the file that info describes.
func changeTime(t *testing.T, info fs.FileInfo) time.Time {
	t.Helper()
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no status change time here")
	}
	return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}
