package report

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/fleetharden/fleetharden/tasks"
)

// syncBuffer is a bytes.Buffer that the drawing goroutine and the test can
// use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ansi matches the escape sequences that move the cursor and set colors.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

func newTestLive(t *testing.T, total int, color bool) (*Live, *syncBuffer) {
	t.Helper()

	out := &syncBuffer{}
	l := newLive(total, color, mpb.WithOutput(out), mpb.WithAutoRefresh(),
		mpb.WithRefreshRate(10*time.Millisecond), mpb.WithWidth(100))
	return l, out
}

// waitForText waits until the output, without escape sequences, contains
// want.
func waitForText(t *testing.T, out *syncBuffer, want string) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(ansi.ReplaceAllString(out.String(), ""), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLiveShowsRunningHosts(t *testing.T) {
	l, out := newTestLive(t, 3, false)
	defer l.Close()

	l.HostStarted("web1")
	time.Sleep(20 * time.Millisecond)
	l.HostStarted("web2")
	l.TaskStarted("web1", "Upgrade Docker")

	waitForText(t, out, "hosts ")
	waitForText(t, out, "0/3")
	waitForText(t, out, "2 running, 0 not ok")
	waitForText(t, out, `web1  0s, on "Upgrade Docker" for 0s`)
	waitForText(t, out, `web2  0s, on "connecting"`)
}

func TestLiveSlowestFirst(t *testing.T) {
	l, out := newTestLive(t, 3, false)
	defer l.Close()

	l.HostStarted("old")
	time.Sleep(20 * time.Millisecond)
	l.HostStarted("new")

	waitForText(t, out, `new  0s, on "connecting"`)
	frames := ansi.ReplaceAllString(out.String(), "")
	last := frames[strings.LastIndex(frames, "hosts "):]
	if strings.Index(last, "old") > strings.Index(last, "new") {
		t.Errorf("newer host listed first:\n%s", last)
	}
}

func TestLivePermanentLines(t *testing.T) {
	l, out := newTestLive(t, 2, false)

	l.HostStarted("web1")
	l.TaskDone("web1", Task{Name: "Rotate logs", Status: tasks.StatusChanged, Message: "set"})
	l.TaskDone("web1", Task{Name: "Quiet", Status: tasks.StatusOK, Message: "fine"})
	l.HostDone(Host{Name: "web1", Status: HostChanged, DurationMS: 1500,
		Tasks: []Task{{Status: tasks.StatusChanged}}})
	l.HostStarted("web2")
	l.HostDone(Host{Name: "web2", Status: HostUnreachable, Message: "refused"})
	l.Close()

	text := ansi.ReplaceAllString(out.String(), "")
	for _, want := range []string{
		"web1  changed  Rotate logs: set\n",
		"web1  changed  ok=0 changed=1 failed=0 skipped=0 in 1.5s\n",
		"web2  unreachable  ok=0 changed=0 failed=0 skipped=0 in 0s: refused\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Quiet") {
		t.Errorf("output shows an ok task:\n%s", text)
	}
}

func TestLiveCountsFailures(t *testing.T) {
	l, out := newTestLive(t, 4, false)
	defer l.Close()

	l.HostStarted("web1")
	l.HostStarted("web2")
	l.HostDone(Host{Name: "web1", Status: HostRolledBack})

	waitForText(t, out, "1/4")
	waitForText(t, out, "1 running, 1 not ok")
}

func TestLiveColor(t *testing.T) {
	l, out := newTestLive(t, 1, true)

	l.HostDone(Host{Name: "web1", Status: HostFailed})
	l.Close()

	if !strings.Contains(out.String(), "\x1b[31mfailed\x1b[0m") {
		t.Errorf("output lacks a red failed:\n%q", out.String())
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		text  string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"much too long", 10, "much to..."},
		{"héllo wörld", 8, "héllo..."},
		{"anything", 0, "anything"},
	}
	for _, tt := range tests {
		if got := cut(tt.text, tt.width); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
}
