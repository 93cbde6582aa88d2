package runner

import (
	"context"
	"encoding/json"
	"path"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
)

const (
	killedRunID = "20261204T100000Z-aaaaaa"
	laterRunID  = "20261204T110000Z-bbbbbb"
)

// hostWithKilledRun returns a host whose journal holds a run killed while it wrote
// /etc/docker/daemon.json, so the journal has no hash of the file as the run left it,
// and a later run in laterState that wrote the same file.
func hostWithKilledRun(t *testing.T, laterState string) *tasktest.Host {
	t.Helper()
	h := tasktest.NewHost()
	h.SetFile("/etc/docker/daemon.json", `{"later": true}`)
	writeJournal(t, h, journalDoc{RunID: killedRunID, Host: "h1", State: journalRunning,
		Records: []record{{Op: "file", Path: "/etc/docker/daemon.json"}}})
	writeJournal(t, h, journalDoc{RunID: laterRunID, Host: "h1", State: laterState,
		Records: []record{{Op: "file", Path: "/etc/docker/daemon.json", After: "00"}}})
	h.Reply("ls -1 -- "+JournalDir, 0, laterRunID+"\n"+killedRunID+"\nnot-a-run\n")
	return h
}

func writeJournal(t *testing.T, h *tasktest.Host, doc journalDoc) {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	h.SetFile(path.Join(JournalDir, doc.RunID, "journal.json"), string(data))
}

func rollbackKilledRun(h *tasktest.Host, force bool) report.Host {
	hosts := []*inventory.Host{{Name: "h1", Address: "127.0.0.1", Port: 22, Become: true}}
	res := Rollback(context.Background(), hosts, RollbackOptions{RunID: killedRunID,
		Forks: 1, Force: force, Dial: fleet{"h1": h}.dial, Observer: &recorder{}})
	return res[0]
}

func TestRollbackKilledRunRewrittenLater(t *testing.T) {
	h := hostWithKilledRun(t, journalDone)

	res := rollbackKilledRun(h, false)

	if res.Status != report.HostFailed {
		t.Fatalf("status = %s (%s), want failed without --force", res.Status, res.Message)
	}
	if !strings.Contains(res.Message, "/etc/docker/daemon.json") ||
		!strings.Contains(res.Message, "--force") {
		t.Errorf("message = %q, want the file and the --force hint", res.Message)
	}
	if got, _ := h.File("/etc/docker/daemon.json"); got != `{"later": true}` {
		t.Errorf("daemon.json = %q, want the later run's content kept", got)
	}
}

func TestRollbackKilledRunForced(t *testing.T) {
	h := hostWithKilledRun(t, journalDone)

	res := rollbackKilledRun(h, true)

	if res.Status != report.HostRolledBack {
		t.Fatalf("status = %s (%s), want rolled_back with --force", res.Status, res.Message)
	}
	if _, ok := h.File("/etc/docker/daemon.json"); ok {
		t.Error("daemon.json still exists, want it removed as before the killed run")
	}
}

func TestRollbackKilledRunLaterRolledBack(t *testing.T) {
	h := hostWithKilledRun(t, journalRolledBack)

	res := rollbackKilledRun(h, false)

	if res.Status != report.HostRolledBack {
		t.Errorf("status = %s (%s), want rolled_back: the later run undid its write",
			res.Status, res.Message)
	}
}
