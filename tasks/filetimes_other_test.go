//go:build !linux

package tasks

import (
	"io/fs"
	"testing"
	"time"
)

// makeFIFO skips the test: the tests that need FIFOs run on Linux.
func makeFIFO(t *testing.T, _ string) {
	t.Skip("FIFO tests run on Linux only")
}

// changeTime skips the test: its field in syscall.Stat_t differs between systems.
func changeTime(t *testing.T, _ fs.FileInfo) time.Time {
	t.Skip("status change times are read on Linux only")
	return time.Time{}
}
