package runner

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

// A write that fails on a full disk leaves the file as it was. The rollback must then leave
// the file alone, because a second write on that disk fails too.
func TestRollbackSkipsFileLeftUnchanged(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile("/etc/a", "original")
	h.WriteErr = func(path string) error {
		if path == "/etc/a" {
			return fmt.Errorf("write %s: %w", path, syscall.ENOSPC)
		}
		return nil
	}
	src := `name: t
tasks:
  - name: write a
    test_write: {path: /etc/a, content: new}
`
	res, _ := runPlaybook(t, src, fleet{"h1": h}, "h1")

	if res[0].Status != report.HostRolledBack {
		t.Errorf("status = %s (%s), want rolled_back", res[0].Status, res[0].Message)
	}
	if !strings.Contains(res[0].Message, "no space left on device") {
		t.Errorf("message = %q, want the cause of the failed write", res[0].Message)
	}
	if got, _ := h.File("/etc/a"); got != "original" {
		t.Errorf("/etc/a = %q, want the original content", got)
	}
	want := "restore /etc/a (unchanged since the run began)"
	if len(res[0].Rollback) != 1 || res[0].Rollback[0] != want {
		t.Errorf("rollback steps = %q, want [%q]", res[0].Rollback, want)
	}
}

func TestRollbackRestoresChangedFile(t *testing.T) {
	h := tasktest.NewHost()
	h.SetFile("/etc/a", "original")
	src := `name: t
tasks:
  - name: write a
    test_write: {path: /etc/a, content: new}
  - name: break
    test_fail:
`
	res, _ := runPlaybook(t, src, fleet{"h1": h}, "h1")

	if res[0].Status != report.HostRolledBack {
		t.Errorf("status = %s (%s), want rolled_back", res[0].Status, res[0].Message)
	}
	if got, _ := h.File("/etc/a"); got != "original" {
		t.Errorf("/etc/a = %q, want the original content back", got)
	}
	if len(res[0].Rollback) != 1 || res[0].Rollback[0] != "restore /etc/a" {
		t.Errorf("rollback steps = %q, want [\"restore /etc/a\"]", res[0].Rollback)
	}
}
