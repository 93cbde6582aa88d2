package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// maxLiveRows is how many running hosts the live view shows at once; the rest are counted.
const maxLiveRows = 20

// Live is the terminal view of a run: a line per running host with the task it is on,
// redrawn in place, and a permanent line for each host as it finishes.
type Live struct {
	mu      sync.Mutex
	w       io.Writer
	total   int
	done    int
	failed  int
	running map[string]*liveRow
	order   []string
	drawn   int // lines of the live block currently on screen
	dirty   bool
	color   bool
	stop    chan struct{}
	stopped chan struct{}
}

type liveRow struct {
	task  string
	since time.Time
}

// NewLive starts a live view of a run over total hosts, with colored statuses unless color
// is false. Call Close when the run ends.
func NewLive(w io.Writer, total int, color bool) *Live {
	l := &Live{w: w, total: total, color: color, running: map[string]*liveRow{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	go l.loop()
	return l
}

func (l *Live) loop() {
	defer close(l.stopped)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			l.mu.Lock()
			if l.dirty || len(l.running) > 0 {
				l.redraw()
			}
			l.mu.Unlock()
		}
	}
}

// Close stops redrawing and clears the live block.
func (l *Live) Close() {
	close(l.stop)
	<-l.stopped
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}

// HostStarted adds the host to the live block.
func (l *Live) HostStarted(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running[host] = &liveRow{task: "connecting", since: time.Now()}
	l.order = append(l.order, host)
	l.dirty = true
}

// TaskStarted shows the task the host is on.
func (l *Live) TaskStarted(host, task string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if row, ok := l.running[host]; ok {
		row.task, row.since = task, time.Now()
		l.dirty = true
	}
}

// TaskDone prints failed and changed tasks above the live block.
func (l *Live) TaskDone(host string, t Task) {
	if t.Status != "failed" && t.Status != "changed" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	fmt.Fprintf(l.w, "%s  %s  %s: %s\n", host, l.status(string(t.Status)), t.Name, t.Message)
	l.dirty = true
}

// HostDone moves the host from the live block to a permanent line.
func (l *Live) HostDone(h Host) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.running, h.Name)
	for i, n := range l.order {
		if n == h.Name {
			l.order = append(l.order[:i], l.order[i+1:]...)
			break
		}
	}
	l.done++
	switch h.Status {
	case HostOK, HostChanged, HostSkipped:
	default:
		l.failed++
	}
	l.clear()
	fmt.Fprintf(l.w, "%s  %s  %s\n", h.Name, l.status(string(h.Status)), hostSummary(h))
	l.dirty = true
}

// clear erases the live block. The caller holds l.mu.
func (l *Live) clear() {
	if l.drawn > 0 {
		fmt.Fprintf(l.w, "\x1b[%dA\x1b[J", l.drawn)
		l.drawn = 0
	}
}

// redraw draws the live block below the permanent lines. The caller holds l.mu.
func (l *Live) redraw() {
	l.clear()
	var b strings.Builder
	rows := 0
	for _, host := range l.order {
		if rows == maxLiveRows {
			fmt.Fprintf(&b, "  ... and %d more running\n", len(l.order)-rows)
			rows++
			break
		}
		row := l.running[host]
		fmt.Fprintf(&b, "  %s  %s (%s)\n", host, row.task,
			time.Since(row.since).Round(time.Second))
		rows++
	}
	fmt.Fprintf(&b, "[%d/%d hosts done, %d running, %d not ok]\n",
		l.done, l.total, len(l.order), l.failed)
	rows++
	io.WriteString(l.w, b.String())
	l.drawn = rows
	l.dirty = false
}

func (l *Live) status(s string) string {
	if !l.color {
		return s
	}
	code := "0"
	switch s {
	case "ok":
		code = "32"
	case "changed":
		code = "33"
	case "failed", "unreachable", "rollback_failed", "rolled_back":
		code = "31"
	case "skipped":
		code = "36"
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
