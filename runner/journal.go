package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/transport"
)

// JournalDir is where each run keeps its undo records and the previous content of the files
// it changed, on every host, readable by root only.
const JournalDir = "/var/lib/fleetharden/runs"

// record is one undo step, in the order the changes were made.
type record struct {
	Op      string             `json:"op"` // file, group, member or service
	Path    string             `json:"path,omitempty"`
	Existed bool               `json:"existed,omitempty"`
	Meta    transport.FileMeta `json:"meta,omitempty"`
	Backup  string             `json:"backup,omitempty"` // copy of the old content on the host
	Group   string             `json:"group,omitempty"`
	User    string             `json:"user,omitempty"`
	Service string             `json:"service,omitempty"`
	Health  string             `json:"health_cmd,omitempty"`
	Timeout time.Duration      `json:"timeout,omitempty"`

	prev []byte
}

// journal implements tasks.Undo for one host. It keeps each record in memory and on the
// host, so the changes can be undone even if this process dies.
type journal struct {
	conn    Conn
	dir     string
	mu      sync.Mutex
	records []record
	err     error // the first failure to write the journal on the host
}

var _ tasks.Undo = (*journal)(nil)

func newJournal(conn Conn, runID string) *journal {
	return &journal{conn: conn, dir: path.Join(JournalDir, runID)}
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
		r.Existed, r.Meta, r.prev = true, prev.Meta, prev.Data
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	if r.Existed {
		r.Backup = path.Join(j.dir, "files", fmt.Sprintf("%03d%s", len(j.records),
			strings.ReplaceAll(p, "/", "_")))
		if err := j.ensureDir(ctx); err != nil {
			return err
		}
		err := j.conn.WriteFile(ctx, r.Backup, r.prev, transport.FileMeta{Mode: 0o600})
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

// persist writes the records to the host. The caller holds j.mu.
func (j *journal) persist(ctx context.Context) error {
	if err := j.ensureDir(ctx); err != nil {
		return err
	}
	data, err := json.MarshalIndent(j.records, "", "  ")
	if err != nil {
		return fmt.Errorf("encode journal: %w", err)
	}
	file := path.Join(j.dir, "journal.json")
	if err := j.conn.WriteFile(ctx, file, data, transport.FileMeta{Mode: 0o600}); err != nil {
		return fmt.Errorf("write journal %s: %w", file, err)
	}
	return nil
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
		if err := j.restart(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", step, err))
			continue
		}
		done = append(done, step+" (healthy)")
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
		return "restore " + r.Path, j.conn.WriteFile(ctx, r.Path, r.prev, r.Meta)
	case "group":
		return "delete group " + r.Group, j.command(ctx, "groupdel "+tasks.Quote(r.Group))
	case "member":
		step := fmt.Sprintf("remove %s from %s", r.User, r.Group)
		return step, j.command(ctx, "gpasswd -d "+tasks.Quote(r.User)+" "+tasks.Quote(r.Group))
	}
	return "", fmt.Errorf("unknown journal record %q", r.Op)
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
	reset := "if command -v systemctl >/dev/null 2>&1; then systemctl reset-failed " +
		tasks.Quote(r.Service) + " 2>/dev/null; fi; true"
	if err := j.command(ctx, reset); err != nil {
		return err
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

// discard is an Undo that keeps nothing, for the restarts a rollback makes.
type discard struct{}

func (discard) SaveFile(context.Context, string, *transport.File) error { return nil }
func (discard) GroupCreated(string)                                     {}
func (discard) MemberAdded(string, string)                              {}
func (discard) ServiceRestarted(string, string, time.Duration)          {}
