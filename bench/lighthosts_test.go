package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/playbook"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/runner"
	"github.com/fleetharden/fleetharden/transport"
	"github.com/fleetharden/fleetharden/transport/sshtest"
)

// hardenedDaemonJSON is what light-playbook.yaml sets, in the form fleetharden writes it,
// so a run on a fresh fleet already finds every host hardened and changes nothing.
const hardenedDaemonJSON = `{
  "log-driver": "json-file",
  "log-opts": {
    "max-file": "3",
    "max-size": "10m"
  },
  "no-new-privileges": true
}
`

// lightFleet is a set of in-process SSH servers with the jobs and the options that run
// light-playbook.yaml on all of them.
type lightFleet struct {
	jobs []runner.Job
	opts runner.Options
}

// startLightFleet starts n servers, each with a hardened daemon.json of its own in a
// temporary directory, and compiles light-playbook.yaml for each.
func startLightFleet(tb testing.TB, n int) *lightFleet {
	tb.Helper()

	keyFile, pub := sshtest.NewClientKey(tb, nil)
	pb, err := playbook.Load("light-playbook.yaml")
	if err != nil {
		tb.Fatalf("load the playbook: %v", err)
	}

	dir := tb.TempDir()
	fleet := &lightFleet{}
	var knownHosts strings.Builder
	for i := range n {
		server := sshtest.Start(tb)
		server.Authorize(pub)
		knownHosts.WriteString(server.KnownHostsLine() + "\n")

		host := lightHost(tb, dir, i, server, keyFile)
		plan, err := pb.Compile(host.Name, host.Vars)
		if err != nil {
			tb.Fatalf("compile the playbook for %s: %v", host.Name, err)
		}
		fleet.jobs = append(fleet.jobs, runner.Job{Host: host, Plan: plan})
	}

	fleet.opts = runner.Options{
		RunID: "bench", Forks: n, TaskTimeout: time.Minute, Observer: discardObserver{},
		Dial: dialer(tb, filepath.Join(dir, "known_hosts"), knownHosts.String()),
	}
	return fleet
}

// lightHost writes host i's daemon.json and returns its inventory entry.
func lightHost(tb testing.TB, dir string, i int, server *sshtest.Server,
	keyFile string) *inventory.Host {
	tb.Helper()

	name := fmt.Sprintf("light%d", i+1)
	daemonJSON := filepath.Join(dir, name+".json")
	if err := os.WriteFile(daemonJSON, []byte(hardenedDaemonJSON), 0o644); err != nil {
		tb.Fatalf("write %s: %v", daemonJSON, err)
	}

	// The servers share this machine's /tmp, where the runner keeps the host lock of a
	// login user that is not root, so each host logs in under a name of its own.
	// sshtest accepts any user name and runs commands as the test's own user.
	user := "fleetharden-bench-" + name
	tb.Cleanup(func() {
		os.Remove("/tmp/fleetharden-" + user + ".lock")
		os.Remove("/tmp/fleetharden-" + user + ".lock.owner")
	})

	return &inventory.Host{
		Name: name, Address: server.Host(), Port: server.Port(), User: user,
		KeyFile: keyFile, Vars: map[string]any{"daemon_json": daemonJSON},
	}
}

// dialer writes the known_hosts file and returns a runner.Dialer that connects as the
// fleetharden command does, without ssh-agent.
func dialer(tb testing.TB, file, lines string) runner.Dialer {
	tb.Helper()

	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		tb.Fatalf("write known_hosts: %v", err)
	}
	keys, err := transport.LoadKnownHosts(file, false)
	if err != nil {
		tb.Fatalf("load known_hosts: %v", err)
	}

	return func(ctx context.Context, h *inventory.Host) (runner.Conn, error) {
		return transport.Dial(ctx, transport.Config{
			Name: h.Name, Address: h.Address, Port: h.Port, User: h.User,
			IdentityFiles: []string{h.KeyFile}, HostKeys: keys,
		})
	}
}

// run runs the playbook on every server and fails unless every host ended ok.
func (f *lightFleet) run(tb testing.TB) []report.Host {
	tb.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	results := runner.Run(ctx, f.jobs, f.opts)
	for _, h := range results {
		if h.Status != report.HostOK {
			tb.Fatalf("host %s ended %s: %s", h.Name, h.Status, h.Message)
		}
	}
	return results
}

// discardObserver ignores progress.
type discardObserver struct{}

func (discardObserver) HostStarted(string)           {}
func (discardObserver) TaskStarted(string, string)   {}
func (discardObserver) TaskDone(string, report.Task) {}
func (discardObserver) HostDone(report.Host)         {}

func TestLightPlaybookChangesNothing(t *testing.T) {
	fleet := startLightFleet(t, 3)

	results := fleet.run(t)

	if len(results) != 3 {
		t.Fatalf("got %d host results, want 3", len(results))
	}
	for _, h := range results {
		if len(h.Tasks) != 3 {
			t.Errorf("%s ran %d tasks, want 3", h.Name, len(h.Tasks))
		}
		if release, _ := h.Facts["kernel_release"].(string); release == "" {
			t.Errorf("%s recorded no kernel_release fact", h.Name)
		}
	}
}

// BenchmarkRunLightHosts runs light-playbook.yaml on fleets of in-process SSH servers,
// with as many forks as hosts. Each operation is one run on the whole fleet, and µs/host
// is the wall time of a run divided by the number of hosts.
func BenchmarkRunLightHosts(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			fleet := startLightFleet(b, n)
			b.ReportAllocs()
			b.ResetTimer()

			for b.Loop() {
				fleet.run(b)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/host")
		})
	}
}
