//go:build lab

package test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// auditRun is the outcome of one fleetharden audit.
type auditRun struct {
	exitCode int
	stdout   string
	report   auditReport
	junit    auditJUnit
}

// auditReport is the part of the audit's JSON report that the tests read.
type auditReport struct {
	Hosts []struct {
		Name     string `json:"name"`
		Status   string `json:"status"`
		Message  string `json:"message"`
		Controls []struct {
			ID         string `json:"id"`
			Verdict    string `json:"verdict"`
			Containers []struct {
				Name    string `json:"name"`
				Verdict string `json:"verdict"`
			} `json:"containers"`
		} `json:"controls"`
	} `json:"hosts"`
}

// auditJUnit is the part of the audit's JUnit report that the tests read.
type auditJUnit struct {
	Suites []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			ClassName string    `xml:"classname,attr"`
			Name      string    `xml:"name,attr"`
			Failure   *struct{} `xml:"failure"`
			Error     *struct{} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// audit runs fleetharden audit on inventory with args, the lab's known_hosts and JSON
// and JUnit reports, and parses both reports.
func (l *e2eLab) audit(t *testing.T, inventory string, args ...string) auditRun {
	t.Helper()
	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatalf("build fleetharden: %v", err)
	}
	dir := t.TempDir()
	jsonPath, junitPath := filepath.Join(dir, "audit.json"), filepath.Join(dir, "audit.xml")
	args = append([]string{"audit", "-i", inventory, "--known-hosts",
		filepath.Join(l.dir, "known_hosts"), "--json", jsonPath, "--junit", junitPath}, args...)
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()

	r := auditRun{stdout: stdout.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.exitCode = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run fleetharden audit: %v", err)
	}
	t.Logf("fleetharden %s: exit %d\n%s%s", strings.Join(args, " "), r.exitCode, &stdout, &stderr)
	readReport(t, jsonPath, func(data []byte) error { return json.Unmarshal(data, &r.report) })
	readReport(t, junitPath, func(data []byte) error { return xml.Unmarshal(data, &r.junit) })
	return r
}

func readReport(t *testing.T, path string, parse func([]byte) error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the audit report: %v", err)
	}
	if err := parse(data); err != nil {
		t.Fatalf("parse %s: %v", filepath.Base(path), err)
	}
}

// verdict returns the verdict of a control on a host of the report.
func (r auditRun) verdict(t *testing.T, host, control string) string {
	t.Helper()
	for _, h := range r.report.Hosts {
		if h.Name != host {
			continue
		}
		for _, c := range h.Controls {
			if c.ID == control {
				return c.Verdict
			}
		}
		t.Fatalf("%s: control %s missing from the report (status %s: %s)", host, control,
			h.Status, h.Message)
	}
	t.Fatalf("host %s missing from the report", host)
	return ""
}

// containerFaults returns, for each container of host whose name starts with "audit-",
// the sorted ids of the controls that did not pass on it.
func (r auditRun) containerFaults(host string) map[string][]string {
	faults := map[string][]string{}
	for _, h := range r.report.Hosts {
		if h.Name != host {
			continue
		}
		for _, c := range h.Controls {
			for _, ctr := range c.Containers {
				if !strings.HasPrefix(ctr.Name, "audit-") {
					continue
				}
				if _, ok := faults[ctr.Name]; !ok {
					faults[ctr.Name] = []string{}
				}
				if ctr.Verdict == "fail" || ctr.Verdict == "warn" {
					faults[ctr.Name] = append(faults[ctr.Name], c.ID)
				}
			}
		}
	}
	for _, ids := range faults {
		sort.Strings(ids)
	}
	return faults
}

// auditContainerNames are the containers the audit tests start on lab hosts.
var auditContainerNames = []string{"audit-cap-add", "audit-seccomp", "audit-socket",
	"audit-host-network", "audit-privileged", "audit-compliant", "audit-nnp-default"}

// removeAuditContainers removes the audit tests' containers from host, including those
// that an earlier, killed run left behind.
func (l *e2eLab) removeAuditContainers(t *testing.T, host string) {
	t.Helper()
	l.ssh(t, host, "docker rm -f "+strings.Join(auditContainerNames, " ")+" >/dev/null 2>&1; true")
}

// limits are the options that keep a container clear of the warning controls.
const limits = "--security-opt no-new-privileges --read-only --memory 64m --pids-limit 64"

func TestAuditFlagsUnsafeContainersOnLab(t *testing.T) {
	lab := openE2ELab(t)
	host := lab.names[0]
	lab.removeAuditContainers(t, host)
	t.Cleanup(func() { lab.removeAuditContainers(t, host) })

	want := map[string][]string{
		"audit-cap-add":      {"container.no-added-capabilities"},
		"audit-seccomp":      {"container.seccomp"},
		"audit-socket":       {"container.docker-socket"},
		"audit-host-network": {"container.host-network"},
		"audit-compliant":    {},
	}
	runs := map[string]string{
		"audit-cap-add":      "--cap-add SYS_ADMIN",
		"audit-seccomp":      "--security-opt seccomp=unconfined",
		"audit-socket":       "-v /var/run/docker.sock:/var/run/docker.sock",
		"audit-host-network": "--network host",
		"audit-compliant":    "--cap-drop ALL",
	}
	var script []string
	for name, opts := range runs {
		script = append(script, "docker run -d --name "+name+" "+opts+" "+limits+
			" fleetharden-lab-workload >/dev/null")
	}
	lab.ssh(t, host, strings.Join(script, " && "))
	// A nested Docker daemon may not be allowed to run a privileged container: runc
	// fails with "unable to apply caps" when the lab host itself lacks capabilities.
	_, err := lab.trySSH(host, "docker run -d --name audit-privileged --privileged "+limits+
		" fleetharden-lab-workload >/dev/null")
	if err == nil {
		want["audit-privileged"] = []string{"container.privileged", "container.seccomp"}
	} else {
		t.Logf("%s cannot run a privileged container, so that case is left to the unit "+
			"tests: %v", host, err)
	}

	r := lab.audit(t, filepath.Join(lab.dir, "inventory.yaml"), "--limit", host)
	if r.exitCode != 7 {
		t.Errorf("exit status = %d, want 7 for failed controls", r.exitCode)
	}
	got := r.containerFaults(host)
	for name, ids := range want {
		if !slices.Equal(got[name], ids) {
			t.Errorf("%s is flagged for %v, want %v", name, got[name], ids)
		}
	}
	checkJUnitNamesContainer(t, r, host, "container.seccomp", "audit-seccomp")
}

// checkJUnitNamesContainer checks that the JUnit test case of control on host failed.
func checkJUnitNamesContainer(t *testing.T, r auditRun, host, control, container string) {
	t.Helper()
	for _, s := range r.junit.Suites {
		for _, c := range s.Cases {
			if c.ClassName != host || !strings.HasPrefix(c.Name, control+": ") {
				continue
			}
			if c.Failure == nil {
				t.Errorf("JUnit case %q has no failure, want one for %s", c.Name, container)
			}
			return
		}
	}
	t.Errorf("JUnit report has no case for %s on %s", control, host)
}

// hardened reports whether a daemon.json has the settings of the built-in playbook.
func hardened(daemonJSON string) bool {
	var cfg struct {
		NoNewPrivileges bool              `json:"no-new-privileges"`
		LogDriver       string            `json:"log-driver"`
		LogOpts         map[string]string `json:"log-opts"`
	}
	if json.Unmarshal([]byte(daemonJSON), &cfg) != nil {
		return false
	}
	return cfg.NoNewPrivileges && cfg.LogDriver == "json-file" &&
		cfg.LogOpts["max-size"] != "" && cfg.LogOpts["max-file"] != ""
}

// harden runs the built-in playbook unless every lab host already has its settings, and
// then rolls that run back when the test ends, so that the lab is left as it was.
func (l *e2eLab) harden(t *testing.T) {
	t.Helper()
	all := true
	for _, host := range l.names {
		conf, _ := l.trySSH(host, "cat /etc/docker/daemon.json")
		all = all && hardened(conf)
	}
	if all {
		return
	}

	inv := filepath.Join(l.dir, "inventory.yaml")
	r := l.run(t, "run", "-i", inv)
	if r.exitCode != 0 {
		t.Fatalf("fleetharden run: exit status %d", r.exitCode)
	}
	t.Cleanup(func() {
		if undo := l.run(t, "rollback", "-i", inv, "--run", r.results.RunID); undo.exitCode != 0 {
			t.Errorf("rollback of run %s: exit status %d", r.results.RunID, undo.exitCode)
		}
	})
}

func TestAuditAfterHardeningOnLab(t *testing.T) {
	lab := openE2ELab(t)
	lab.harden(t)
	host := lab.names[1]
	lab.removeAuditContainers(t, host)
	t.Cleanup(func() { lab.removeAuditContainers(t, host) })
	// Without its own no-new-privileges option, the container relies on the daemon's.
	lab.ssh(t, host, "docker run -d --name audit-nnp-default --read-only --memory 64m "+
		"--pids-limit 64 fleetharden-lab-workload >/dev/null")

	r := lab.audit(t, filepath.Join(lab.dir, "inventory.yaml"))
	if r.exitCode != 0 && r.exitCode != 7 {
		t.Errorf("exit status = %d, want 0, or 7 if some control failed", r.exitCode)
	}
	for _, name := range lab.names {
		for _, id := range []string{"daemon.no-tcp-without-tls", "daemon.log-rotation",
			"daemon.no-new-privileges"} {
			if v := r.verdict(t, name, id); v != "pass" {
				t.Errorf("%s: %s = %s, want pass after the built-in playbook", name, id, v)
			}
		}
	}
	if got := r.containerFaults(host)["audit-nnp-default"]; len(got) != 0 {
		t.Errorf("audit-nnp-default is flagged for %v, want nothing: the daemon gives it "+
			"no-new-privileges", got)
	}
}

// inventoryWithBogusHost writes a copy of the lab inventory with one more host, bogus,
// on a port of 127.0.0.1 that nothing listens on.
func (l *e2eLab) inventoryWithBogusHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	data, err := os.ReadFile(filepath.Join(l.dir, "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	hosts := doc["groups"].(map[string]any)["lab"].(map[string]any)["hosts"].(map[string]any)
	first := l.hosts[l.names[0]]
	hosts["bogus"] = map[string]any{"address": "127.0.0.1", "port": port, "user": first.User,
		"key": first.Key, "become": true}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditUnreachableHostOnLab(t *testing.T) {
	lab := openE2ELab(t)
	inv := lab.inventoryWithBogusHost(t)

	r := lab.audit(t, inv, "--connect-timeout", "5s")
	var flagged []string
	for _, h := range r.report.Hosts {
		switch {
		case h.Name == "bogus" && h.Status != "unreachable":
			t.Errorf("bogus: status %s, want unreachable", h.Status)
		case h.Name != "bogus" && h.Status != "audited":
			t.Errorf("%s: status %s (%s), want audited", h.Name, h.Status, h.Message)
		case h.Name != "bogus" && len(h.Controls) == 0:
			t.Errorf("%s: no verdicts beside an unreachable host", h.Name)
		}
		for _, c := range h.Controls {
			if c.Verdict == "fail" {
				flagged = append(flagged, c.ID)
			}
		}
	}
	if len(r.report.Hosts) != len(lab.names)+1 {
		t.Errorf("%d hosts in the report, want %d", len(r.report.Hosts), len(lab.names)+1)
	}
	if want := map[bool]int{true: 7, false: 4}[len(flagged) > 0]; r.exitCode != want {
		t.Errorf("exit status = %d, want %d (failed controls: %v)", r.exitCode, want, flagged)
	}
	checkJUnitError(t, r, "bogus")

	// Without the controls that failed, only the unreachable host is left to report.
	slices.Sort(flagged)
	skipped := lab.audit(t, inv, "--connect-timeout", "5s", "--skip",
		strings.Join(slices.Compact(flagged), ","))
	if skipped.exitCode != 4 {
		t.Errorf("exit status without failed controls = %d, want 4", skipped.exitCode)
	}
}

// checkJUnitError checks that the JUnit suite of host is one test case with an error.
func checkJUnitError(t *testing.T, r auditRun, host string) {
	t.Helper()
	for _, s := range r.junit.Suites {
		if s.Name != host {
			continue
		}
		if len(s.Cases) != 1 || s.Cases[0].Error == nil {
			t.Errorf("JUnit suite %s = %+v, want one case with an error", host, s.Cases)
		}
		return
	}
	t.Errorf("JUnit report has no suite for %s", host)
}
