// Package tasks holds the task kinds a playbook can use. Each kind reads the host's state
// first, changes only what differs, and reports ok, changed, failed or skipped.
package tasks

import (
	"context"
	"time"

	"github.com/fleetharden/fleetharden/transport"
)

// Host is the view of a remote host that tasks need: running a command and moving files.
// Commands and file operations run as root when the inventory asks for become. The errors
// of the file operations name the operation and the path, such as "write
// /etc/docker/daemon.json: ...", so callers add neither.
type Host interface {
	// Run runs cmd through the remote shell. A nonzero exit status is not an error: it is
	// in the result. Errors are transport failures.
	Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error)
	// ReadFile returns a file's content and metadata, or an error matching fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) (*transport.File, error)
	// WriteFile replaces path atomically with data, with the owner and mode in meta.
	WriteFile(ctx context.Context, path string, data []byte, meta transport.FileMeta) error
	// Remove deletes path.
	Remove(ctx context.Context, path string) error
}

var _ Host = (*transport.Client)(nil)

// Status is the outcome of one task on one host.
type Status string

// The statuses a task reports.
const (
	StatusOK      Status = "ok"
	StatusChanged Status = "changed"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Outcome is the result a task reports for one host.
type Outcome struct {
	Status  Status
	Message string         // one line, for people
	Diff    string         // unified diff of a file the task changed or would change
	Facts   map[string]any // facts the task recorded about the host
	Err     error          // the cause when Status is StatusFailed
}

// Env is the context of one task run on one host.
type Env struct {
	Host  Host
	Check bool           // report what would change, change nothing
	Facts map[string]any // facts recorded by earlier tasks on this host; read only
	Undo  Undo
	Memo  *Memo // reads of this host that tasks share; nil to share none
}

// Task is one configured step of a playbook, ready to run on any host.
type Task interface {
	Run(ctx context.Context, env *Env) Outcome
}

// Undo records, before a task changes a host, how to revert that change. The runner
// replays the records in reverse order when a later step on the host fails.
type Undo interface {
	// SaveFile records the content and metadata of path before it changes; prev is nil
	// when the file does not exist yet.
	SaveFile(ctx context.Context, path string, prev *transport.File) error
	// GroupCreated records that the group did not exist before.
	GroupCreated(group string)
	// MemberAdded records that user was added to group.
	MemberAdded(group, user string)
	// ServiceRestarted records that a service was restarted or reloaded, so a rollback
	// restarts it again once the files it reads are back.
	ServiceRestarted(service string, healthCmd string, timeout time.Duration)
}

// OK returns an ok outcome with a message.
func OK(msg string) Outcome { return Outcome{Status: StatusOK, Message: msg} }

// Changed returns a changed outcome with a message.
func Changed(msg string) Outcome { return Outcome{Status: StatusChanged, Message: msg} }

// Skipped returns a skipped outcome with a message.
func Skipped(msg string) Outcome { return Outcome{Status: StatusSkipped, Message: msg} }

// Failed returns a failed outcome whose message is the error's text.
func Failed(err error) Outcome {
	return Outcome{Status: StatusFailed, Message: err.Error(), Err: err}
}
