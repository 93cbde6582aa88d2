package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/tasks"
)

// RollbackOptions control the rollback of an earlier run.
type RollbackOptions struct {
	RunID    string
	Forks    int
	Force    bool // undo files that changed again since the run
	LockWait time.Duration
	Dial     Dialer
	Observer Observer
}

// Rollback restores every host to its state before the run opts.RunID, from the journal
// that run left on the host. It works after fleetharden was killed in the middle of the
// run, does nothing on a host already rolled back, and without Force fails a host on which
// a file the run wrote has changed again since.
func Rollback(ctx context.Context, hosts []*inventory.Host, opts RollbackOptions) []report.Host {
	results := make([]report.Host, len(hosts))
	p := pool.New().WithMaxGoroutines(max(opts.Forks, 1))
	for i, h := range hosts {
		p.Go(func() {
			opts.Observer.HostStarted(h.Name)
			start := time.Now()
			results[i] = rollbackHost(ctx, h, opts)
			results[i].DurationMS = time.Since(start).Milliseconds()
			opts.Observer.HostDone(results[i])
		})
	}
	p.Wait()
	return results
}

// NoJournalMessage returns the message of a host that keeps no journal of the run runID,
// because the run changed nothing there or never ran there.
func NoJournalMessage(runID string) string {
	return "run " + runID + " changed nothing here"
}

func rollbackHost(ctx context.Context, h *inventory.Host, opts RollbackOptions) report.Host {
	res := report.Host{Name: h.Name, Address: h.Address, Port: h.Port, Facts: map[string]any{},
		Tasks: []report.Task{}}
	conn, err := opts.Dial(ctx, h)
	if err != nil {
		res.Status, res.Message = dialStatus(err), err.Error()
		return res
	}
	defer conn.Close()
	release, err := conn.Lock(ctx, lockPath(h), "fleetharden rollback of run "+opts.RunID,
		opts.LockWait)
	if err != nil {
		res.Status, res.Message = report.HostFailed, "wait for the host lock: "+err.Error()
		return res
	}
	defer release()

	j, err := loadJournal(ctx, conn, opts.RunID, h.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Status, res.Message = report.HostOK, NoJournalMessage(opts.RunID)
		return res
	case err != nil:
		res.Status, res.Message = report.HostFailed, err.Error()
		return res
	case j.doc.State == journalRolledBack:
		res.Status, res.Message = report.HostOK, "already rolled back"
		return res
	}

	if changed, err := j.changedSince(ctx); err != nil || (len(changed) > 0 && !opts.Force) {
		res.Status = report.HostFailed
		res.Message = fmt.Sprintf("changed again since run %s: %v; rerun with --force to "+
			"restore the content from before that run anyway", opts.RunID, changed)
		if err != nil {
			res.Message = err.Error()
		}
		return res
	}

	steps, err := j.rollback(ctx)
	res.Rollback = steps
	if err != nil {
		res.Status, res.Message = report.HostRollbackFailed, err.Error()
		j.setState(ctx, journalRollbackFailed)
		return res
	}
	res.Status = report.HostRolledBack
	if err := j.setState(ctx, journalRolledBack); err != nil {
		res.Message = "rolled back, but the journal was not updated: " + err.Error()
	}
	return res
}

// loadJournal reads a run's journal from the host, with the old file contents it points
// to.
func loadJournal(ctx context.Context, conn Conn, runID, host string) (*journal, error) {
	if !validRunID(runID) {
		return nil, fmt.Errorf("invalid run id %q: it looks like 20261204T153012Z-3fa2c1", runID)
	}
	j := newJournal(conn, runID, host, "")
	f, err := conn.ReadFile(ctx, path.Join(j.dir, "journal.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(f.Data, &j.doc); err != nil {
		return nil, fmt.Errorf("read journal of run %s: %w", runID, err)
	}
	j.records = j.doc.Records
	for i, r := range j.records {
		if r.Op != "file" || !r.Existed {
			continue
		}
		b, err := conn.ReadFile(ctx, r.Backup)
		if err != nil {
			return nil, fmt.Errorf("read the saved copy of %s: %w", r.Path, err)
		}
		j.records[i].Prev = b.Data
	}
	return j, nil
}

// changedSince lists the files whose content differs from how the run left them. A file
// without a recorded hash was being written when the run stopped: it counts as the run's
// unless a later run on the host wrote it too.
func (j *journal) changedSince(ctx context.Context) ([]string, error) {
	var changed []string
	for _, r := range j.records {
		if r.Op != "file" || r.After == "" {
			continue
		}
		sum, err := fileHash(ctx, j.conn, r.Path)
		if err != nil {
			return nil, err
		}
		if sum != r.After {
			changed = append(changed, r.Path)
		}
	}

	rewritten, err := j.rewrittenByLaterRuns(ctx)
	if err != nil {
		return nil, err
	}
	return append(changed, rewritten...), nil
}

// rewrittenByLaterRuns lists the files that the run recorded without a hash, as a killed
// run does, and that a later run on the host wrote and did not roll back. Their content
// is then the later run's, not the one this run left.
// NOTE: run IDs order by their start second only, so of two runs started within the same
// second either may count as the later one.
func (j *journal) rewrittenByLaterRuns(ctx context.Context) ([]string, error) {
	unhashed := map[string]bool{}
	for _, r := range j.records {
		if r.Op == "file" && r.After == "" {
			unhashed[r.Path] = true
		}
	}
	if len(unhashed) == 0 {
		return nil, nil
	}

	later, err := j.laterRunIDs(ctx)
	if err != nil {
		return nil, err
	}
	var rewritten []string
	for _, id := range later {
		f, err := j.conn.ReadFile(ctx, path.Join(JournalDir, id, "journal.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the journal of run %s: %w", id, err)
		}
		var doc journalDoc
		if err := json.Unmarshal(f.Data, &doc); err != nil {
			return nil, fmt.Errorf("read the journal of run %s: %w", id, err)
		}
		// A later run that was rolled back put its files back as it found them.
		if doc.State == journalRolledBack {
			continue
		}
		for _, r := range doc.Records {
			if r.Op == "file" && unhashed[r.Path] {
				rewritten = append(rewritten, r.Path)
				delete(unhashed, r.Path)
			}
		}
	}
	return rewritten, nil
}

// laterRunIDs returns the IDs of the runs whose journals the host keeps and that started
// after this run, oldest first.
func (j *journal) laterRunIDs(ctx context.Context) ([]string, error) {
	cmd := "ls -1 -- " + tasks.Quote(JournalDir)
	res, err := j.conn.Run(ctx, cmd, nil)
	if err != nil {
		return nil, fmt.Errorf("list the journals in %s: %w", JournalDir, err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("list the journals in %s: exit status %d: %s", JournalDir,
			res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	var ids []string
	for _, id := range strings.Fields(string(res.Stdout)) {
		if validRunID(id) && id > j.doc.RunID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// validRunID reports whether id has the form newRunID produces, so it is safe in a path.
func validRunID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
