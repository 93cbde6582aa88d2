package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/transport"
)

// JournalDir is the directory in which each run keeps, on every host, its undo records
// and the previous content of the files it changed, readable by root only.
const JournalDir = "/var/lib/fleetharden/runs"

// The states of a run's journal on a host.
const (
	journalRunning        = "running"
	journalDone           = "done"
	journalRolledBack     = "rolled_back"
	journalRollbackFailed = "rollback_failed"
)

// record is one undo step, in the order the changes were made.
type record struct {
	Op      string             `json:"op"` // file, group, member or service
	Path    string             `json:"path,omitempty"`
	Existed bool               `json:"existed,omitempty"`
	Meta    transport.FileMeta `json:"meta,omitempty"`
	Backup  string             `json:"backup,omitempty"` // copy of the old content on the host
	// After is the SHA-256 of the file as the run left it, so a later rollback can tell
	// whether someone changed it since.
	After   string        `json:"after_sha256,omitempty"`
	Group   string        `json:"group,omitempty"`
	User    string        `json:"user,omitempty"`
	Service string        `json:"service,omitempty"`
	Health  string        `json:"health_cmd,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
	// Prev is the old content. It is kept in the operator's copy of the journal; the host
	// keeps it in the Backup file instead.
	Prev []byte `json:"prev,omitempty"`
}

// journalDoc is the journal as stored, on the host and on the operator's machine.
type journalDoc struct {
	RunID   string   `json:"run_id"`
	Host    string   `json:"host"`
	State   string   `json:"state"`
	Records []record `json:"records"`
}

// journal implements tasks.Undo for one host. It keeps each record in memory and on the
// host, so the changes can be undone even if this process dies.
type journal struct {
	conn    Conn
	dir     string
	doc     journalDoc
	local   string // the operator's copy, or ""
	mu      sync.Mutex
	records []record
	err     error // the first failure to write the journal on the host
}

var _ tasks.Undo = (*journal)(nil)

func newJournal(conn Conn, runID, host, localDir string) *journal {
	j := &journal{conn: conn, dir: path.Join(JournalDir, runID),
		doc: journalDoc{RunID: runID, Host: host, State: journalRunning}}
	if localDir != "" {
		// Escaping keeps any host name to one file inside localDir.
		j.local = filepath.Join(localDir, url.PathEscape(host)+".json")
	}
	return j
}

func (j *journal) empty() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.records) == 0
}

// SaveFile keeps a copy of the file's old content on the host before the task replaces it.
// An error here stops the task before it changes anything.
func (j *journal) SaveFile(ctx context.Context, p string, prev *transport.File) error {
	r := record{Op: "file", Path: p}
	if prev != nil {
		r.Existed, r.Meta, r.Prev = true, prev.Meta, prev.Data
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	if r.Existed {
		r.Backup = path.Join(j.dir, "files", fmt.Sprintf("%03d%s", len(j.records),
			strings.ReplaceAll(p, "/", "_")))
		if err := j.ensureDir(ctx); err != nil {
			return err
		}
		err := j.conn.WriteFile(ctx, r.Backup, r.Prev, transport.FileMeta{Mode: 0o600})
		if err != nil {
			return fmt.Errorf("keep a copy of %s: %w", p, err)
		}
	}
	j.records = append(j.records, r)
	return j.persist(ctx)
}

// GroupCreated records a group the run created.
func (j *journal) GroupCreated(group string) { j.add(record{Op: "group", Group: group}) }

// MemberAdded records a user the run added to a group.
func (j *journal) MemberAdded(group, user string) {
	j.add(record{Op: "member", Group: group, User: user})
}

// ServiceRestarted records a service the run restarted.
func (j *journal) ServiceRestarted(service, health string, timeout time.Duration) {
	j.add(record{Op: "service", Service: service, Health: health, Timeout: timeout})
}

func (j *journal) add(r record) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.records = append(j.records, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := j.persist(ctx); err != nil && j.err == nil {
		j.err = err
	}
}

func (j *journal) ensureDir(ctx context.Context) error {
	if err := j.conn.MkdirAll(ctx, path.Join(j.dir, "files"), 0o700); err != nil {
		return fmt.Errorf("create journal %s: %w", j.dir, err)
	}
	return nil
}

// persist writes the records to the host, and to the operator's copy. The caller holds
// j.mu.
func (j *journal) persist(ctx context.Context) error {
	j.doc.Records = j.records
	if j.local != "" {
		if err := writeLocal(j.local, j.doc); err != nil {
			return err
		}
	}

	if err := j.ensureDir(ctx); err != nil {
		return err
	}
	onHost := j.doc
	onHost.Records = make([]record, len(j.records))
	for i, r := range j.records {
		r.Prev = nil
		onHost.Records[i] = r
	}
	data, err := json.MarshalIndent(onHost, "", "  ")
	if err != nil {
		return fmt.Errorf("encode journal: %w", err)
	}
	file := path.Join(j.dir, "journal.json")
	if err := j.conn.WriteFile(ctx, file, data, transport.FileMeta{Mode: 0o600}); err != nil {
		return fmt.Errorf("write journal %s: %w", file, err)
	}
	return nil
}

// writeLocal saves the operator's copy of a journal, readable by the operator only.
func writeLocal(file string, doc journalDoc) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode journal: %w", err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write journal copy: %w", err)
	}
	return os.Rename(tmp, file)
}

// setState records how the run ended on the host. For a run that ended well it also
// stores the hash of each file as the run left it. It first removes the temporary files
// that killed writes left next to the journal's files.
func (j *journal) setState(ctx context.Context, state string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.records) == 0 {
		return nil
	}
	j.removeLeftovers(ctx)
	if state == journalDone {
		for i, r := range j.records {
			if r.Op != "file" {
				continue
			}
			sum, err := fileHash(ctx, j.conn, r.Path)
			if err != nil {
				return err
			}
			j.records[i].After = sum
		}
	}
	j.doc.State = state
	return j.persist(ctx)
}

// removeLeftovers deletes the temporary files ".NAME.fleetharden-*" that
// transport.WriteFile leaves next to a file when the process writing it is killed before
// the rename. Clearing them for every file the journal names lets the next run or rollback
// on the host clean up after a killed run; the host lock keeps other runs from writing
// these files meanwhile. A failure only leaves such files behind, so it is not reported.
// The caller holds j.mu.
func (j *journal) removeLeftovers(ctx context.Context) {
	seen := map[string]bool{}
	var globs []string
	for _, r := range j.records {
		if r.Op != "file" || seen[r.Path] {
			continue
		}
		seen[r.Path] = true
		dir, name := path.Split(r.Path)
		globs = append(globs, tasks.Quote(dir)+tasks.Quote("."+name+".fleetharden-")+"*")
	}
	if len(globs) > 0 {
		j.command(ctx, "rm -f -- "+strings.Join(globs, " "))
	}
}

// fileHash returns the hex SHA-256 of a file's content, or "absent".
func fileHash(ctx context.Context, conn tasks.Host, p string) (string, error) {
	f, err := conn.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return "absent", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	sum := sha256.Sum256(f.Data)
	return hex.EncodeToString(sum[:]), nil
}

// rollback undoes the records in reverse order, then restarts the services the run
// restarted so they read the restored files, and checks they are healthy. It returns the
// steps taken; on error, the steps that remain undone are in the error.
func (j *journal) rollback(ctx context.Context) ([]string, error) {
	j.mu.Lock()
	records := append([]record(nil), j.records...)
	j.mu.Unlock()

	var done []string
	var errs []error
	var services []record
	for i := len(records) - 1; i >= 0; i-- {
		r := records[i]
		if r.Op == "service" {
			services = append([]record{r}, services...)
			continue
		}
		step, err := j.undo(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", step, err))
			continue
		}
		done = append(done, step)
	}

	for _, r := range dedupeServices(services) {
		step := "restart " + r.Service
		err := j.restart(ctx, r)
		switch {
		case errors.Is(err, errNoService):
			done = append(done, step+" skipped: the host has no such service")
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", step, err))
		default:
			done = append(done, step+" (healthy)")
		}
	}
	return done, errors.Join(errs...)
}

func (j *journal) undo(ctx context.Context, r record) (string, error) {
	switch r.Op {
	case "file":
		if !r.Existed {
			err := j.conn.Remove(ctx, r.Path)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			return "remove " + r.Path, err
		}
		return j.restoreFile(ctx, r)
	case "group":
		return "delete group " + r.Group, j.command(ctx, "groupdel "+tasks.Quote(r.Group))
	case "member":
		step := fmt.Sprintf("remove %s from %s", r.User, r.Group)
		return step, j.command(ctx, "gpasswd -d "+tasks.Quote(r.User)+" "+tasks.Quote(r.Group))
	}
	return "", fmt.Errorf("unknown journal record %q", r.Op)
}

// restoreFile writes a file's saved content back. A file that still has that content and
// metadata is left alone: the write the record guarded failed, and writing again can fail
// for the same reason, such as a full disk, which would report a host that never changed
// as left changed.
func (j *journal) restoreFile(ctx context.Context, r record) (string, error) {
	step := "restore " + r.Path
	cur, err := j.conn.ReadFile(ctx, r.Path)
	if err == nil && bytes.Equal(cur.Data, r.Prev) && cur.Meta == r.Meta {
		return step + " (unchanged since the run began)", nil
	}
	return step, j.conn.WriteFile(ctx, r.Path, r.Prev, r.Meta)
}

func (j *journal) command(ctx context.Context, cmd string) error {
	res, err := j.conn.Run(ctx, cmd, nil)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("%s: exit status %d: %s", cmd, res.ExitCode,
			strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// restart brings a service back with the restored files, through the service task kind so
// the health check is the same as in the run. A unit that failed several times in a row is
// reset first, or systemd would refuse to start it again.
func (j *journal) restart(ctx context.Context, r record) error {
	// Exit status 3 means the service does not exist: its restart in the run failed for
	// that reason, and there is nothing to bring back.
	name := tasks.Quote(r.Service)
	reset := "if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then " +
		"systemctl cat " + name + " >/dev/null 2>&1 || exit 3; " +
		"systemctl reset-failed " + name + " 2>/dev/null; " +
		"elif [ ! -x /etc/init.d/" + name + " ]; then exit 3; fi; true"
	res, err := j.conn.Run(ctx, reset, nil)
	if err != nil {
		return tasks.RemoteError("reset the failed state of service "+r.Service, err)
	}
	if res.ExitCode == 3 {
		return errNoService
	}

	kind, ok := tasks.Lookup("service")
	if !ok {
		return errors.New("the service task kind is not registered")
	}
	args := tasks.Args{"name": r.Service, "state": "restarted", "timeout": r.Timeout}
	if r.Health != "" {
		args["health_cmd"] = r.Health
	}
	task, err := kind.New(args)
	if err != nil {
		return err
	}
	out := task.Run(ctx, &tasks.Env{Host: j.conn, Facts: map[string]any{}, Undo: discard{}})
	if out.Status == tasks.StatusFailed {
		return errors.New(out.Message)
	}
	return nil
}

func dedupeServices(list []record) []record {
	var out []record
	seen := map[string]bool{}
	for _, r := range list {
		if !seen[r.Service] {
			seen[r.Service] = true
			out = append(out, r)
		}
	}
	return out
}

// errNoService reports that a service to restart does not exist on the host.
var errNoService = errors.New("no such service")

// discard is an Undo that keeps nothing, for the restarts a rollback makes.
type discard struct{}

func (discard) SaveFile(context.Context, string, *transport.File) error { return nil }
func (discard) GroupCreated(string)                                     {}
func (discard) MemberAdded(string, string)                              {}
func (discard) ServiceRestarted(string, string, time.Duration)          {}
