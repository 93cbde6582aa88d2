package report

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// maxSlowRows is how many running hosts the live view lists, the longest
// running first.
const maxSlowRows = 5

// liveRefresh is how often the live view is redrawn.
const liveRefresh = 150 * time.Millisecond

// Live is the terminal view of a run, drawn with mpb: a bar of the hosts
// done with the counts of hosts running and not ok, and below it the hosts
// that have been running longest, each with the task it is on. Changed and
// failed tasks, and each host as it ends, print as permanent lines above.
type Live struct {
	progress *mpb.Progress
	bar      *mpb.Bar   // hosts done out of the total
	rows     []*mpb.Bar // the slowest running hosts, one a row
	color    bool

	mu      sync.Mutex
	running map[string]*liveRow
	done    int
	failed  int
}

// liveRow is a running host.
type liveRow struct {
	task      string
	started   time.Time // when the host started
	taskSince time.Time // when its current task started
}

// NewLive starts a live view of a run over total hosts on the terminal w,
// with colored statuses unless color is false. Call Close when the run ends.
func NewLive(w io.Writer, total int, color bool) *Live {
	return newLive(total, color, mpb.WithOutput(w), mpb.WithRefreshRate(liveRefresh))
}

// newLive builds the view with the container options of mpb, which tests
// use to draw into a buffer.
func newLive(total int, color bool, options ...mpb.ContainerOption) *Live {
	l := &Live{color: color, running: map[string]*liveRow{}}
	l.progress = mpb.New(options...)

	l.bar = l.progress.New(int64(max(total, 1)),
		mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding(" ").Rbound("]"),
		mpb.BarWidth(30), mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name("hosts "), decor.CountersNoUnit("%d/%d ")),
		mpb.AppendDecorators(decor.Any(l.countsText), decor.Elapsed(decor.ET_STYLE_MMSS,
			decor.WC{W: 7})))

	for i := range min(maxSlowRows, max(total, 1)) {
		row := l.progress.New(1, mpb.NopStyle(), mpb.PrependDecorators(
			decor.Any(func(s decor.Statistics) string { return l.rowText(i, s.AvailableWidth) })))
		l.rows = append(l.rows, row)
	}
	return l
}

// Close removes the live block and waits until it is off the screen. The
// permanent lines stay.
func (l *Live) Close() {
	for _, row := range l.rows {
		row.Abort(true)
	}
	l.bar.Abort(true)
	l.progress.Wait()
}

// HostStarted adds the host to the running hosts.
func (l *Live) HostStarted(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := time.Now()
	l.running[host] = &liveRow{task: "connecting", started: now, taskSince: now}
}

// TaskStarted records the task the host is on.
func (l *Live) TaskStarted(host, task string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if row, ok := l.running[host]; ok {
		row.task, row.taskSince = task, time.Now()
	}
}

// TaskDone prints failed and changed tasks above the live block.
func (l *Live) TaskDone(host string, t Task) {
	if t.Status != "failed" && t.Status != "changed" {
		return
	}

	// Never hold l.mu while mpb works: its drawing calls back into l.
	l.print(fmt.Sprintf("%s  %s  %s: %s\n", host, l.status(string(t.Status)), t.Name,
		t.Message))
}

// HostDone moves the host from the running hosts to a permanent line.
func (l *Live) HostDone(h Host) {
	l.mu.Lock()
	delete(l.running, h.Name)
	l.done++
	switch h.Status {
	case HostOK, HostChanged, HostSkipped:
	default:
		l.failed++
	}
	l.mu.Unlock()

	l.print(fmt.Sprintf("%s  %s  %s\n", h.Name, l.status(string(h.Status)), hostSummary(h)))
	l.bar.Increment()
}

// print writes a permanent line above the live block.
func (l *Live) print(line string) {
	io.WriteString(l.progress, line)
}

// countsText returns the part of the bar line after the bar.
func (l *Live) countsText(decor.Statistics) string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return fmt.Sprintf(" %d running, %d not ok ", len(l.running), l.failed)
}

// rowText returns row i of the slowest running hosts, cut to width, or ""
// when fewer hosts run.
func (l *Live) rowText(i, width int) string {
	l.mu.Lock()
	defer l.mu.Unlock()

	hosts := make([]string, 0, len(l.running))
	for host := range l.running {
		hosts = append(hosts, host)
	}
	if i >= len(hosts) {
		return ""
	}

	slices.SortFunc(hosts, func(a, b string) int {
		return l.running[a].started.Compare(l.running[b].started)
	})
	host := hosts[i]
	row := l.running[host]
	text := fmt.Sprintf("  %s  %s, on %q for %s", host,
		time.Since(row.started).Round(time.Second), row.task,
		time.Since(row.taskSince).Round(time.Second))
	return cut(text, width)
}

// cut shortens text to width columns, counting one per rune.
func cut(text string, width int) string {
	runes := []rune(text)
	if width <= 3 || len(runes) <= width {
		return text
	}
	return string(runes[:width-3]) + "..."
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
