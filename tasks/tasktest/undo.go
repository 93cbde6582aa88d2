package tasktest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fleetharden/fleetharden/transport"
)

// Undo records what tasks declared they would need to revert, as readable lines.
type Undo struct {
	mu      sync.Mutex
	Records []string
	Saved   map[string]*transport.File // path -> content before the change; nil if absent
}

// SaveFile records a file's previous content.
func (u *Undo) SaveFile(ctx context.Context, path string, prev *transport.File) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Saved == nil {
		u.Saved = map[string]*transport.File{}
	}
	u.Saved[path] = prev
	u.Records = append(u.Records, "file "+path)
	return nil
}

// GroupCreated records a created group.
func (u *Undo) GroupCreated(group string) { u.add("group " + group) }

// MemberAdded records a member added to a group.
func (u *Undo) MemberAdded(group, user string) { u.add("member " + group + " " + user) }

// ServiceRestarted records a restarted service.
func (u *Undo) ServiceRestarted(service, healthCmd string, timeout time.Duration) {
	u.add(fmt.Sprintf("service %s", service))
}

func (u *Undo) add(record string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Records = append(u.Records, record)
}
