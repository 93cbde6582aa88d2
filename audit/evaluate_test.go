package audit

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// defaultControls returns the built-in controls, failing the test on error.
func defaultControls(t *testing.T) []*Control {
	t.Helper()
	controls, err := DefaultControls()
	if err != nil {
		t.Fatalf("DefaultControls: %v", err)
	}
	return controls
}

// evaluate decides the built-in controls on the state of probes.
func evaluate(t *testing.T, p *probes) map[string]Result {
	t.Helper()
	results, err := Evaluate(defaultControls(t), stateOf(t, p))
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	byID := map[string]Result{}
	for _, r := range results {
		byID[r.ID] = r
	}
	return byID
}

// containerFaults returns, per container, the ids of the controls that gave it verdict.
func containerFaults(results map[string]Result, verdict Verdict) map[string][]string {
	faults := map[string][]string{}
	for id, r := range results {
		for _, c := range r.Containers {
			if c.Verdict == verdict {
				faults[c.Name] = append(faults[c.Name], id)
			}
		}
	}
	for _, ids := range faults {
		sort.Strings(ids)
	}
	return faults
}

func TestEvaluateLabContainersFail(t *testing.T) {
	results := evaluate(t, readProbes(t, "lab-containers.json"))
	got := containerFaults(results, Fail)
	want := map[string][]string{
		"audit-cap-add":      {"container.no-added-capabilities"},
		"audit-seccomp":      {"container.seccomp"},
		"audit-socket":       {"container.docker-socket"},
		"audit-host-network": {"container.host-network"},
		"audit-spellings": {"container.docker-socket", "container.host-ipc",
			"container.host-pid", "container.host-uts", "container.no-added-capabilities",
			"container.no-new-privileges", "container.seccomp", "container.sensitive-mounts"},
	}
	for name, ids := range want {
		if !slices.Equal(got[name], ids) {
			t.Errorf("%s fails %v, want %v", name, got[name], ids)
		}
	}
	for name, ids := range got {
		if want[name] == nil {
			t.Errorf("%s fails %v, want no failure", name, ids)
		}
	}
}

func TestEvaluateLabContainersWarn(t *testing.T) {
	results := evaluate(t, readProbes(t, "lab-containers.json"))
	got := containerFaults(results, Warn)
	limits := []string{"container.memory-limit", "container.pids-limit",
		"container.read-only-rootfs"}
	for _, name := range []string{"audit-spellings", "audit-defaults"} {
		if !slices.Equal(got[name], limits) {
			t.Errorf("%s warns %v, want %v", name, got[name], limits)
		}
	}
	for _, name := range []string{"audit-compliant", "audit-cap-add", "audit-seccomp"} {
		if len(got[name]) > 0 {
			t.Errorf("%s warns %v, want nothing: it has every limit", name, got[name])
		}
	}
}

func TestEvaluateLabContainerEvidence(t *testing.T) {
	results := evaluate(t, readProbes(t, "lab-containers.json"))
	caps := results["container.no-added-capabilities"]
	if caps.Verdict != Fail {
		t.Fatalf("container.no-added-capabilities = %s, want fail", caps.Verdict)
	}
	for _, c := range caps.Containers {
		if c.Name != "audit-spellings" {
			continue
		}
		want := []any{"NET_ADMIN", "SYS_PTRACE"}
		if len(c.Evidence) != 1 || !slices.Equal(c.Evidence[0].Value.([]any), want) {
			t.Errorf("evidence = %+v, want cap_add %v", c.Evidence, want)
		}
	}
	if got := caps.Summary(); got != `audit-cap-add: cap_add=["SYS_ADMIN"]; `+
		`audit-spellings: cap_add=["NET_ADMIN","SYS_PTRACE"]` {
		t.Errorf("Summary = %s", got)
	}
}

func TestEvaluateLabHardenedDaemon(t *testing.T) {
	results := evaluate(t, readProbes(t, "lab-containers.json"))
	for _, id := range []string{"daemon.no-tcp-without-tls", "daemon.log-rotation",
		"daemon.no-new-privileges", "daemon.seccomp", "daemon.no-insecure-registries",
		"daemon.experimental-off", "files.daemon-json", "files.docker-socket",
		"files.docker-service", "files.etc-docker"} {
		if v := results[id].Verdict; v != Pass {
			t.Errorf("%s = %s, want pass; evidence %s", id, v, results[id].Summary())
		}
	}
	for _, id := range []string{"daemon.live-restore", "daemon.icc-off",
		"daemon.userland-proxy-off", "daemon.docker-group-empty"} {
		if v := results[id].Verdict; v != Warn {
			t.Errorf("%s = %s, want warn", id, v)
		}
	}
	if v := results["container.apparmor"].Verdict; v != NotApplicable {
		t.Errorf("container.apparmor = %s, want not_applicable without AppArmor", v)
	}
}

func TestEvaluateLabDefaultDaemon(t *testing.T) {
	results := evaluate(t, readProbes(t, "lab-default.json"))
	want := map[string]Verdict{
		"daemon.no-tcp-without-tls":  Pass,
		"daemon.log-rotation":        Fail,
		"daemon.no-new-privileges":   Fail,
		"daemon.docker-group-empty":  Pass,
		"files.daemon-json":          NotApplicable,
		"files.etc-default-docker":   Pass,
		"files.etc-sysconfig-docker": NotApplicable,
		"container.privileged":       NotApplicable,
	}
	for id, v := range want {
		if got := results[id].Verdict; got != v {
			t.Errorf("%s = %s, want %s; evidence %s", id, got, v, results[id].Summary())
		}
	}
}

// withDaemon returns the default lab fixture run with argv and daemonJSON.
func withDaemon(t *testing.T, argv, daemonJSON string) *probes {
	p := readProbes(t, "lab-default.json")
	p.DockerdCmdline.Stdout = argv
	if daemonJSON != "" {
		p.DaemonJSON = probe{Stdout: daemonJSON}
	}
	return p
}

func TestEvaluateTCPWithoutTLS(t *testing.T) {
	listening := readProbes(t, "lab-default.json")
	listening.Listeners.Stdout += "\nLISTEN 0 4096 *:2375 *:* users:((\"dockerd\",pid=9,fd=5))"
	tests := []struct {
		name string
		p    *probes
		want Verdict
	}{
		{"-H", withDaemon(t, "dockerd\n-H\ntcp://0.0.0.0:2375", ""), Fail},
		{"--host=", withDaemon(t, "dockerd\n--host=tcp://0.0.0.0:2375", ""), Fail},
		{"hosts", withDaemon(t, "dockerd", `{"hosts": ["tcp://0.0.0.0:2375"]}`), Fail},
		{"ss", listening, Fail},
		{"tlsverify", withDaemon(t, "dockerd\n-H\ntcp://0.0.0.0:2376\n--tlsverify", ""), Pass},
		{"tls without verify", withDaemon(t, "dockerd\n-H\ntcp://0.0.0.0:2376\n--tls", ""), Fail},
		{"tlsverify in file", withDaemon(t, "dockerd",
			`{"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": true}`), Pass},
		{"unix only", withDaemon(t, "dockerd\n-H\nunix:///var/run/docker.sock", ""), Pass},
	}
	for _, tt := range tests {
		r := evaluate(t, tt.p)["daemon.no-tcp-without-tls"]
		if r.Verdict != tt.want {
			t.Errorf("%s: verdict %s, want %s; evidence %s", tt.name, r.Verdict, tt.want,
				r.Summary())
		}
	}
}

func TestEvaluateDaemonSettings(t *testing.T) {
	tests := []struct {
		id, argv, file string
		want           Verdict
	}{
		{"daemon.no-new-privileges", "dockerd\n--no-new-privileges", "", Pass},
		{"daemon.no-new-privileges", "dockerd\n--no-new-privileges=false", "", Fail},
		{"daemon.no-new-privileges", "dockerd", `{"no-new-privileges": true}`, Pass},
		{"daemon.userland-proxy-off", "dockerd\n--userland-proxy=false", "", Pass},
		{"daemon.userland-proxy-off", "dockerd", `{"userland-proxy": false}`, Pass},
		{"daemon.log-rotation", "dockerd\n--log-opt\nmax-size=10m\n--log-opt\nmax-file=3", "", Pass},
		{"daemon.log-rotation", "dockerd", `{"log-opts": {"max-size": "10m"}}`, Fail},
		{"daemon.log-rotation", "dockerd", `{"log-opts": {"max-size": "1m", "max-file": 2}}`, Pass},
		{"files.daemon-json", "dockerd", `{}`, NotApplicable},
	}
	for _, tt := range tests {
		r := evaluate(t, withDaemon(t, tt.argv, tt.file))[tt.id]
		if r.Verdict != tt.want {
			t.Errorf("%s with %q and %s: %s, want %s; evidence %s", tt.id, tt.argv, tt.file,
				r.Verdict, tt.want, r.Summary())
		}
	}
}

// withInfo returns the default lab fixture with its docker info output changed by edit.
func withInfo(t *testing.T, edit func(info map[string]any)) *probes {
	p := readProbes(t, "lab-default.json")
	var info map[string]any
	if err := json.Unmarshal([]byte(p.DockerInfo.Stdout), &info); err != nil {
		t.Fatal(err)
	}
	edit(info)
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	p.DockerInfo.Stdout = string(data)
	return p
}

func TestEvaluateDockerInfoSettings(t *testing.T) {
	registry := func(cidrs []any, secure bool) func(map[string]any) {
		return func(info map[string]any) {
			rc := info["RegistryConfig"].(map[string]any)
			rc["InsecureRegistryCIDRs"] = cidrs
			rc["IndexConfigs"] = map[string]any{"registry.lab:5000": map[string]any{
				"Name": "registry.lab:5000", "Secure": secure}}
		}
	}
	tests := []struct {
		name, id string
		edit     func(map[string]any)
		want     Verdict
	}{
		{"loopback registries", "daemon.no-insecure-registries",
			registry([]any{"127.0.0.0/8"}, true), Pass},
		{"insecure range", "daemon.no-insecure-registries",
			registry([]any{"127.0.0.0/8", "10.0.0.0/8"}, true), Fail},
		{"insecure index", "daemon.no-insecure-registries",
			registry([]any{"127.0.0.0/8"}, false), Fail},
		{"live restore", "daemon.live-restore",
			func(i map[string]any) { i["LiveRestoreEnabled"] = true }, Pass},
		{"experimental", "daemon.experimental-off",
			func(i map[string]any) { i["ExperimentalBuild"] = true }, Warn},
		{"seccomp unconfined", "daemon.seccomp", func(i map[string]any) {
			i["SecurityOptions"] = []any{"name=seccomp,profile=unconfined"}
		}, Fail},
		{"no seccomp", "daemon.seccomp",
			func(i map[string]any) { i["SecurityOptions"] = []any{} }, Fail},
		{"remote log driver", "daemon.log-rotation",
			func(i map[string]any) { i["LoggingDriver"] = "journald" }, Pass},
		{"no log driver", "daemon.log-rotation",
			func(i map[string]any) { i["LoggingDriver"] = "none" }, Fail},
	}
	for _, tt := range tests {
		r := evaluate(t, withInfo(t, tt.edit))[tt.id]
		if r.Verdict != tt.want {
			t.Errorf("%s: %s = %s, want %s; evidence %s", tt.name, tt.id, r.Verdict,
				tt.want, r.Summary())
		}
	}
}

// withInspect returns the containers fixture with one container changed by edit.
func withInspect(t *testing.T, name string, edit func(c map[string]any)) *probes {
	p := readProbes(t, "lab-containers.json")
	var lines []string
	for _, line := range splitLines(p.Containers.Stdout) {
		var c map[string]any
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		if c["Name"] == "/"+name {
			edit(c)
		}
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(data))
	}
	p.Containers.Stdout = strings.Join(lines, "\n")
	return p
}

func TestEvaluatePrivilegedContainer(t *testing.T) {
	p := withInspect(t, "audit-compliant", func(c map[string]any) {
		c["HostConfig"].(map[string]any)["Privileged"] = true
	})
	got := containerFaults(evaluate(t, p), Fail)["audit-compliant"]
	want := []string{"container.privileged", "container.seccomp"}
	if !slices.Equal(got, want) {
		t.Errorf("privileged container fails %v, want %v", got, want)
	}
}

func TestEvaluateAppArmor(t *testing.T) {
	p := withInspect(t, "audit-compliant", func(c map[string]any) {
		c["AppArmorProfile"] = "docker-default"
	})
	var info map[string]any
	json.Unmarshal([]byte(p.DockerInfo.Stdout), &info)
	info["SecurityOptions"] = []any{"name=apparmor", "name=seccomp,profile=default"}
	data, _ := json.Marshal(info)
	p.DockerInfo.Stdout = string(data)

	r := evaluate(t, p)["container.apparmor"]
	for _, c := range r.Containers {
		want := Fail
		if c.Name == "audit-compliant" {
			want = Pass
		}
		if c.Verdict != want {
			t.Errorf("%s: container.apparmor = %s, want %s", c.Name, c.Verdict, want)
		}
	}
}

func TestEvaluateNoNewPrivilegesFromDaemon(t *testing.T) {
	hardened := evaluate(t, readProbes(t, "lab-containers.json"))["container.no-new-privileges"]
	unhardened := readProbes(t, "lab-containers.json")
	unhardened.DaemonJSON = probe{Stdout: "{}"}
	plain := evaluate(t, unhardened)["container.no-new-privileges"]

	verdicts := func(r Result) map[string]Verdict {
		m := map[string]Verdict{}
		for _, c := range r.Containers {
			m[c.Name] = c.Verdict
		}
		return m
	}
	if v := verdicts(hardened)["audit-defaults"]; v != Pass {
		t.Errorf("audit-defaults with the daemon default = %s, want pass", v)
	}
	if v := verdicts(plain)["audit-defaults"]; v != Fail {
		t.Errorf("audit-defaults without the daemon default = %s, want fail", v)
	}
	if v := verdicts(plain)["audit-compliant"]; v != Pass {
		t.Errorf("audit-compliant without the daemon default = %s, want pass", v)
	}
	if v := verdicts(hardened)["audit-spellings"]; v != Fail {
		t.Errorf("audit-spellings, which sets no-new-privileges:false = %s, want fail", v)
	}
}

func TestEvaluateNoContainers(t *testing.T) {
	r := evaluate(t, readProbes(t, "lab-default.json"))["container.seccomp"]
	if r.Verdict != NotApplicable || r.Summary() != "no running containers" {
		t.Errorf("container.seccomp = %s (%s), want not_applicable", r.Verdict, r.Summary())
	}
}

func TestEvaluateSensitiveMounts(t *testing.T) {
	tests := map[string]Verdict{
		"/": Fail, "/etc": Fail, "/etc/ssl": Fail, "/boot": Fail, "/dev": Fail,
		"/proc": Fail, "/sys/fs/cgroup": Fail, "/usr/local": Fail, "/lib64": Fail,
		"/run/containerd": Fail, "/var/run": Fail, "/var/lib/docker/volumes": Fail,
		"/root": Fail, "/var/run/docker.sock": Pass, "/run/docker.sock": Pass,
		"/etcetera": Pass, "/home/app": Pass, "/srv/data": Pass, "/var/lib/app": Pass,
	}
	for source, want := range tests {
		p := withInspect(t, "audit-compliant", func(c map[string]any) {
			c["Mounts"] = []any{map[string]any{"Type": "bind", "Source": source,
				"Destination": "/mnt", "RW": true}}
		})
		r := evaluate(t, p)["container.sensitive-mounts"]
		for _, c := range r.Containers {
			if c.Name == "audit-compliant" && c.Verdict != want {
				t.Errorf("writable mount of %s: %s, want %s", source, c.Verdict, want)
			}
		}
	}

	readOnly := withInspect(t, "audit-compliant", func(c map[string]any) {
		c["Mounts"] = []any{map[string]any{"Type": "bind", "Source": "/etc", "RW": false}}
	})
	for _, c := range evaluate(t, readOnly)["container.sensitive-mounts"].Containers {
		if c.Name == "audit-compliant" && c.Verdict != Pass {
			t.Errorf("read-only mount of /etc: %s, want pass", c.Verdict)
		}
	}
}
