package transport

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// defaultBastionLinger is how long a connection to a jump host stays open
// after the last target behind it closed. Hosts that start one after
// another, with a low --forks or in --serial batches, then reuse it.
const defaultBastionLinger = 30 * time.Second

// Bastions shares the connections to jump hosts among the Dials of a run:
// every target behind a jump host uses one SSH connection to it, opened by
// the first Dial that needs it, so that a thousand targets do not open a
// thousand connections to their bastion. A connection is closed 30 seconds
// after the last target that used it closed, at once after Close, and is
// opened again when it was lost. It is safe for concurrent use.
type Bastions struct {
	linger time.Duration

	mu      sync.Mutex
	entries map[string]*bastion // by chain of hops
	closed  bool
}

// bastion is the shared connection to the last hop of a chain.
type bastion struct {
	key   string
	ready chan struct{} // closed once client or err is set
	conn  *Client
	err   error
	users int         // Dials and open connections through it
	idle  *time.Timer // runs closeIdle once users fell to 0
}

// NewBastions returns an empty set of shared jump host connections.
func NewBastions() *Bastions {
	return &Bastions{linger: defaultBastionLinger, entries: make(map[string]*bastion)}
}

// Close closes the connections that no target uses now, and makes the
// others close as soon as their last target closes.
func (b *Bastions) Close() {
	b.mu.Lock()
	b.closed = true
	var idle []*bastion
	for key, e := range b.entries {
		if e.users == 0 {
			stopTimer(e.idle)
			delete(b.entries, key)
			idle = append(idle, e)
		}
	}
	b.mu.Unlock()

	for _, e := range idle {
		e.shutdown()
	}
}

// acquire returns the connection to the last hop of path, opening it and
// the hops before it when needed, with the function that releases it.
func (b *Bastions) acquire(ctx context.Context, cfg *Config, path []Jump) (*Client, func(),
	error) {
	e, opener := b.entry(path)
	if opener {
		b.open(ctx, cfg, path, e)
	}

	select {
	case <-e.ready:
	case <-ctx.Done():
		b.release(e)
		return nil, nil, contextError(ctx, "connect jump host "+path[len(path)-1].Name)
	}

	if e.err != nil {
		b.release(e)
		return nil, nil, e.err
	}
	return e.conn, sync.OnceFunc(func() { b.release(e) }), nil
}

// entry returns the shared connection of path with one more user, creating
// it when there is none or the one there failed. It reports whether the
// caller created it and so must open it.
func (b *Bastions) entry(path []Jump) (*bastion, bool) {
	key := chainKey(path)
	b.mu.Lock()
	e, ok := b.entries[key]
	var broken *bastion
	if ok && e.broken() {
		delete(b.entries, key)
		if e.users == 0 {
			stopTimer(e.idle)
			broken = e
		}
		ok = false
	}

	if !ok {
		e = &bastion{key: key, ready: make(chan struct{})}
		b.entries[key] = e
	}
	e.users++
	stopTimer(e.idle)
	e.idle = nil
	b.mu.Unlock()

	if broken != nil {
		broken.shutdown()
	}
	return e, !ok
}

// open connects to the last hop of path through the hops before it, which
// are shared too, and sets e.conn or e.err.
func (b *Bastions) open(ctx context.Context, cfg *Config, path []Jump, e *bastion) {
	defer close(e.ready)

	hop := path[len(path)-1]
	hopCfg := Config{
		Name: "jump host " + hop.Name, Address: hop.Address, Port: hop.Port, User: hop.User,
		IdentityFiles: hop.IdentityFiles, Agent: cfg.Agent && !hop.IdentitiesOnly,
		Passphrases: cfg.Passphrases, HostKeys: cfg.HostKeys,
		ConnectTimeout: cfg.ConnectTimeout, Jumps: path[:len(path)-1], Bastions: b,
		Logger: cfg.Logger, keepaliveInterval: cfg.keepaliveInterval,
	}
	if e.err = hopCfg.validate(); e.err != nil {
		return
	}

	creds, err := loadCredentials(&hopCfg)
	if err != nil {
		e.err = err
		return
	}
	defer creds.close()

	start := time.Now()
	conn, err := connect(ctx, &hopCfg, creds)
	if err != nil {
		e.err = err
		return
	}

	e.conn = newClient(&hopCfg, conn)
	hopCfg.logger().LogAttrs(ctx, slog.LevelDebug, "jump host connected",
		slog.String("host", hop.Name), slog.String("addr", hopCfg.addr()),
		slog.Duration("duration", time.Since(start)))
}

// release drops one user of e. The last user leaves it open for the linger
// time, or closes it at once when it failed, was replaced or Close ran.
func (b *Bastions) release(e *bastion) {
	b.mu.Lock()
	e.users--
	if e.users > 0 {
		b.mu.Unlock()
		return
	}

	current := b.entries[e.key] == e
	if current && e.err == nil && !b.closed {
		e.idle = time.AfterFunc(b.linger, func() { b.closeIdle(e) })
		b.mu.Unlock()
		return
	}
	if current {
		delete(b.entries, e.key)
	}
	b.mu.Unlock()

	e.shutdown()
}

// closeIdle closes e if no target used it since its last user left.
func (b *Bastions) closeIdle(e *bastion) {
	b.mu.Lock()
	idle := e.users == 0 && b.entries[e.key] == e
	if idle {
		delete(b.entries, e.key)
	}
	b.mu.Unlock()

	if idle {
		e.shutdown()
	}
}

// broken reports whether e failed to open or lost its connection. The
// caller holds the lock of the Bastions. A connection is seen lost only once
// its watcher runs, so dialTarget checks again after a failed Dial through it.
func (e *bastion) broken() bool {
	select {
	case <-e.ready:
	default:
		return false
	}
	if e.err != nil {
		return true
	}

	select {
	case <-e.conn.lost:
		return true
	default:
		return false
	}
}

// shutdown closes the connection, which releases the hop it went through.
func (e *bastion) shutdown() {
	<-e.ready
	if e.conn != nil {
		e.conn.Close()
	}
}

// chainKey identifies a chain of hops.
func chainKey(path []Jump) string {
	hops := make([]string, len(path))
	for i, hop := range path {
		hops[i] = fmt.Sprintf("%s %q", hop, hop.IdentityFiles)
	}
	return strings.Join(hops, " > ")
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}
