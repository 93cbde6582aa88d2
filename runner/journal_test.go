package runner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
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

// A killed write leaves its temporary file next to the target. The next run that changes
// the file removes it, and nothing else in the directory.
func TestRunRemovesTempFilesOfKilledWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "conf dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".a.fleetharden-0123456789abcdef", ".b.fleetharden-x", "keep"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := tasktest.NewHost()
	h.Handle("rm -f -- ", func(cmd string, stdin []byte) transport.Result {
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		if err != nil {
			return transport.Result{ExitCode: 1, Stderr: out}
		}
		return transport.Result{}
	})
	src := fmt.Sprintf(`name: t
tasks:
  - name: write a
    test_write: {path: %q, content: new}
`, filepath.Join(dir, "a"))

	res, _ := runPlaybook(t, src, fleet{"h1": h}, "h1")

	if res[0].Status != report.HostChanged {
		t.Errorf("status = %s (%s), want changed", res[0].Status, res[0].Message)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != ".b.fleetharden-x keep" {
		t.Errorf("directory holds %q, want the leftover of a removed and the rest kept", got)
	}
}
