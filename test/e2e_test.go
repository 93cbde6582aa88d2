//go:build lab

package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// e2eLab is a running lab: its state directory, inventory and hosts.
type e2eLab struct {
	dir   string
	state string             // FLEETHARDEN_STATE_DIR of the runs, one per test
	hosts map[string]e2eHost // inventory name -> connection
	names []string
}

type e2eHost struct {
	Port int    `yaml:"port"`
	User string `yaml:"user"`
	Key  string `yaml:"key"`
}

func openE2ELab(t *testing.T) *e2eLab {
	t.Helper()
	dir := os.Getenv("FLEETHARDEN_LAB")
	if dir == "" {
		t.Skip("FLEETHARDEN_LAB is not set: start a lab with test/lab/lab.sh up")
	}
	data, err := os.ReadFile(filepath.Join(dir, "inventory.yaml"))
	if err != nil {
		t.Fatalf("read lab inventory: %v", err)
	}
	var inv struct {
		Groups map[string]struct {
			Hosts map[string]e2eHost `yaml:"hosts"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &inv); err != nil {
		t.Fatalf("parse lab inventory: %v", err)
	}
	lab := &e2eLab{dir: dir, hosts: inv.Groups["lab"].Hosts, state: t.TempDir()}
	for name := range lab.hosts {
		lab.names = append(lab.names, name)
	}
	sort.Strings(lab.names)
	if len(lab.names) < 3 {
		t.Fatalf("lab has %d hosts, the end-to-end suite needs 3", len(lab.names))
	}
	return lab
}

// ssh runs cmd as root on a lab host and returns its stdout.
func (l *e2eLab) ssh(t *testing.T, host, cmd string) string {
	t.Helper()
	out, err := l.trySSH(host, cmd)
	if err != nil {
		t.Fatalf("%s: %s: %v", host, cmd, err)
	}
	return out
}

func (l *e2eLab) trySSH(host, cmd string) (string, error) {
	h := l.hosts[host]
	c := exec.Command("ssh", "-i", h.Key, "-p", itoa(h.Port),
		"-o", "UserKnownHostsFile="+filepath.Join(l.dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		h.User+"@127.0.0.1", "sudo -n sh -c "+shellQuote(cmd))
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return string(out), errors.New(strings.TrimSpace(stderr.String()) + ": " + err.Error())
	}
	return string(out), nil
}

// each runs cmd as root on every lab host at once and stops the test if any failed.
func (l *e2eLab) each(t *testing.T, cmd string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, name := range l.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.trySSH(name, cmd); err != nil {
				t.Errorf("%s: %s: %v", name, cmd, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// reset puts every host back to an unhardened state, so the first run has work to do.
// Earlier tests restart Docker often, so its start rate limit is cleared first.
func (l *e2eLab) reset(t *testing.T) {
	t.Helper()
	l.each(t, "rm -f /etc/docker/daemon.json; gpasswd -d alice docker >/dev/null 2>&1; "+
		"rm -f /var/cache/apt/pkgcache.bin; systemctl reset-failed docker; "+
		"systemctl restart docker && docker info >/dev/null")
}

// fleetharden builds the binary once per test binary.
var fleethardenOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "fleetharden-e2e")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "fleetharden")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/fleetharden").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out))
	}
	return bin, nil
})

type e2eRun struct {
	exitCode int
	stdout   string
	stderr   string
	results  e2eResults
}

type e2eResults struct {
	RunID   string         `json:"run_id"`
	Summary map[string]int `json:"summary"`
	Hosts   []struct {
		Name   string         `json:"name"`
		Status string         `json:"status"`
		Facts  map[string]any `json:"facts"`
		Tasks  []struct {
			Name    string `json:"name"`
			Kind    string `json:"kind"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"tasks"`
	} `json:"hosts"`
}

// run runs fleetharden with args plus the lab's known_hosts and a JSON results file.
func (l *e2eLab) run(t *testing.T, args ...string) e2eRun {
	t.Helper()
	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatalf("build fleetharden: %v", err)
	}
	jsonPath := filepath.Join(t.TempDir(), "results.json")
	args = append(args, "--known-hosts", filepath.Join(l.dir, "known_hosts"), "--json", jsonPath)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+l.state)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()

	r := e2eRun{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.exitCode = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run fleetharden: %v", err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("read results (exit %d, stderr %s): %v", r.exitCode, r.stderr, err)
	}
	if err := json.Unmarshal(data, &r.results); err != nil {
		t.Fatalf("parse results: %v", err)
	}
	t.Logf("fleetharden %s: exit %d\n%s%s", strings.Join(args, " "), r.exitCode, r.stdout, r.stderr)
	return r
}

func (r e2eRun) host(t *testing.T, name string) (status string, facts map[string]any, changed []string) {
	t.Helper()
	for _, h := range r.results.Hosts {
		if h.Name == name {
			for _, task := range h.Tasks {
				if task.Status == "changed" {
					changed = append(changed, task.Name)
				}
			}
			return h.Status, h.Facts, changed
		}
	}
	t.Fatalf("host %s missing from results", name)
	return "", nil, nil
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
