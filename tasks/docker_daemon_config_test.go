package tasks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

const daemonJSON = "/etc/docker/daemon.json"

// debianUnit is what systemctl show prints for Debian's docker.io unit, followed by the
// section marker and no running process.
const debianUnit = "ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// " +
	"$DOCKER_OPTS ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; " +
	"code=(null) ; status=0/0 }\n" +
	"EnvironmentFiles=/etc/default/docker (ignore_errors=yes)\n" +
	"Environment=\n" +
	"--fleetharden-section--\n"

// upstreamUnit is the unit of Docker's own docker-ce package.
const upstreamUnit = "ExecStart={ path=/usr/bin/dockerd ; argv[]=/usr/bin/dockerd -H fd:// " +
	"--containerd=/run/containerd/containerd.sock ; ignore_errors=no ; start_time=[n/a] }\n" +
	"EnvironmentFiles=\nEnvironment=\n--fleetharden-section--\n"

// unitWith returns a unit whose ExecStart is argv.
func unitWith(argv string) string {
	return "ExecStart={ path=/usr/bin/dockerd ; argv[]=" + argv + " ; ignore_errors=no }\n" +
		"--fleetharden-section--\n"
}

func newDaemonConfig(t *testing.T, args tasks.Args) tasks.Task {
	t.Helper()
	kind, ok := tasks.Lookup("docker_daemon_config")
	if !ok {
		t.Fatal("kind docker_daemon_config is not registered")
	}
	task, err := kind.New(args)
	if err != nil {
		t.Fatalf("New(%v): %v", args, err)
	}
	return task
}

func newDaemonConfigErr(args tasks.Args) error {
	kind, _ := tasks.Lookup("docker_daemon_config")
	_, err := kind.New(args)
	return err
}

func settingsArgs(settings map[string]any) tasks.Args {
	return tasks.Args{"settings": settings}
}

// stateCommand is the start of the command that reads the daemon's state.
const stateCommand = "set -f\nunit="

// runningDaemon is the report of a host whose dockerd runs and started at 4910 s after
// the epoch, after daemon.json last changed at 1000.5 s.
const runningDaemon = "dockerd=/usr/sbin/dockerd\ndockerd_running=yes\n" +
	"dockerd_start_ticks=1000\nclock_ticks=100\nuptime=100.00\nnow=5000.000000000\n" +
	"file_changed=1970-01-01 00:16:40.5 +0000\ndir=/etc/docker\n"

// daemonHost returns a fake host with unit, whose output ends with the first section
// marker, a running dockerd and, unless existing is "", a daemon.json holding existing.
func daemonHost(existing, unit string) *tasktest.Host {
	h := tasktest.NewHost()
	if existing != "" {
		h.SetFile(daemonJSON, existing)
	}
	replyState(h, unit, runningDaemon)
	return h
}

// replyState makes h answer the state command with unitAndProcess, the unit's
// properties and the running dockerd's argv, then the report fields, with the kind of
// daemon.json taken from h's files.
func replyState(h *tasktest.Host, unitAndProcess, fields string) {
	// The dockerd --validate script: this dockerd predates the flag, so nothing is checked.
	h.Reply("dockerd=", 0, "")
	h.Handle(stateCommand, func(string, []byte) transport.Result {
		kind := "missing"
		if _, ok := h.File(daemonJSON); ok {
			kind = "regular"
		}
		out := unitAndProcess + "--fleetharden-section--\nfile=" + kind + "\n" + fields
		return transport.Result{Stdout: []byte(out)}
	})
}

func runTask(task tasks.Task, h *tasktest.Host, check bool) (tasks.Outcome, *tasktest.Undo) {
	undo := &tasktest.Undo{}
	env := &tasks.Env{Host: h, Check: check, Undo: undo}
	return task.Run(context.Background(), env), undo
}

func TestDaemonConfigMergeKeepsOtherKeys(t *testing.T) {
	existing := `{"storage-driver":"overlay2","runtimes":{"crun":{"path":"/usr/bin/crun"}},` +
		`"data-root": "/srv/\u0064ocker", "log-opts":{"max-size":"10m"}}`
	h := daemonHost(existing, debianUnit)
	task := newDaemonConfig(t, settingsArgs(map[string]any{
		"log-driver": "json-file",
		"log-opts":   map[string]any{"max-file": 3},
	}))

	out, _ := runTask(task, h, false)

	if out.Status != tasks.StatusChanged {
		t.Fatalf("status = %s (%s), want changed", out.Status, out.Message)
	}
	if out.Message != "log-driver, log-opts set" {
		t.Errorf("message = %q", out.Message)
	}
	want := `{
  "storage-driver": "overlay2",
  "runtimes": {
    "crun": {
      "path": "/usr/bin/crun"
    }
  },
  "data-root": "/srv/\u0064ocker",
  "log-opts": {
    "max-size": "10m",
    "max-file": "3"
  },
  "log-driver": "json-file"
}
`
	got, _ := h.File(daemonJSON)
	if got != want {
		t.Errorf("daemon.json =\n%s\nwant\n%s", got, want)
	}
}

func TestDaemonConfigNewFile(t *testing.T) {
	h := daemonHost("", debianUnit)
	task := newDaemonConfig(t, settingsArgs(map[string]any{
		"no-new-privileges": true, "icc": false, "userland-proxy": "false",
	}))

	out, undo := runTask(task, h, false)

	if out.Status != tasks.StatusChanged {
		t.Fatalf("status = %s (%s), want changed", out.Status, out.Message)
	}
	want := "{\n  \"icc\": false,\n  \"no-new-privileges\": true,\n  \"userland-proxy\": false\n}\n"
	if got, _ := h.File(daemonJSON); got != want {
		t.Errorf("daemon.json = %q, want %q", got, want)
	}
	prev, saved := undo.Saved[daemonJSON]
	if !saved {
		t.Fatal("Undo.SaveFile was not called")
	}
	if prev != nil {
		t.Errorf("saved previous content %q, want nil for an absent file", prev.Data)
	}
	if meta := h.Files[daemonJSON].Meta; meta.Mode != 0o644 || meta.UID != 0 || meta.GID != 0 {
		t.Errorf("meta = %+v, want mode 0644 owned by root", meta)
	}
}

func TestDaemonConfigSemanticNoop(t *testing.T) {
	settings := map[string]any{
		"log-driver": "json-file",
		"log-opts":   map[string]any{"max-size": "10m", "max-file": 3},
	}
	tests := []struct {
		name     string
		existing string
	}{
		{"compact", `{"log-opts":{"max-file":"3","max-size":"10m"},"log-driver":"json-file"}`},
		{"tabs and other order", "{\n\t\"log-driver\" : \"json-file\",\n\t\"log-opts\": " +
			"{\"max-size\": \"10m\", \"max-file\": \"3\"}\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := daemonHost(tt.existing, debianUnit)
			out, undo := runTask(newDaemonConfig(t, settingsArgs(settings)), h, false)

			if out.Status != tasks.StatusOK || out.Message != "already set" {
				t.Errorf("outcome = %s %q, want ok \"already set\"", out.Status, out.Message)
			}
			if len(h.Writes) != 0 {
				t.Errorf("wrote %v", h.Writes)
			}
			if len(undo.Records) != 0 {
				t.Errorf("undo records %v", undo.Records)
			}
		})
	}
}

func TestDaemonConfigRepairsUnreadableFile(t *testing.T) {
	setIcc := settingsArgs(map[string]any{"icc": false})
	removeOnly := tasks.Args{"settings": map[string]any{}, "remove": []string{"debug"}}
	tests := []struct {
		name, existing string
		args           tasks.Args
		message, want  string
	}{
		{"byte order mark", "\xef\xbb\xbf{\"icc\": false}", setIcc, "byte order mark removed",
			"{\n  \"icc\": false\n}\n"},
		{"blank file", " \n", removeOnly, "empty file replaced", "{}\n"},
		{"blank file and a setting", "\n", setIcc, "icc set; empty file replaced",
			"{\n  \"icc\": false\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := daemonHost(tt.existing, debianUnit)

			out, _ := runTask(newDaemonConfig(t, tt.args), h, false)

			if out.Status != tasks.StatusChanged || out.Message != tt.message {
				t.Errorf("outcome = %s %q, want changed %q", out.Status, out.Message, tt.message)
			}
			if got, _ := h.File(daemonJSON); got != tt.want {
				t.Errorf("daemon.json = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDaemonConfigSecondRunIsOK(t *testing.T) {
	h := daemonHost(`{"debug": true}`, debianUnit)
	task := newDaemonConfig(t, settingsArgs(map[string]any{
		"live-restore": true, "log-opts": map[string]any{"max-size": "10m"},
	}))

	first, _ := runTask(task, h, false)
	second, _ := runTask(task, h, false)

	if first.Status != tasks.StatusChanged {
		t.Errorf("first run status = %s (%s), want changed", first.Status, first.Message)
	}
	if second.Status != tasks.StatusOK {
		t.Errorf("second run status = %s (%s), want ok", second.Status, second.Message)
	}
	if len(h.Writes) != 1 {
		t.Errorf("writes = %v, want one", h.Writes)
	}
}

func TestDaemonConfigCoercion(t *testing.T) {
	tests := []struct {
		key   string
		value any
		want  string // the value as written in daemon.json
	}{
		{"log-opts", map[string]any{"max-file": 3, "compress": true, "max-size": "10m"},
			`{"compress":"true","max-file":"3","max-size":"10m"}`},
		{"no-new-privileges", "true", `true`},
		{"live-restore", "False", `false`},
		{"max-concurrent-downloads", "5", `5`},
		{"mtu", 1450.0, `1450`},
		{"default-shm-size", 67108864, `"67108864"`},
		{"default-shm-size", "128M", `"128M"`},
		{"group", 998, `"998"`},
		{"dns", "192.0.2.53", `["192.0.2.53"]`},
		{"cdi-spec-dirs", []any{"/etc/cdi", 42}, `["/etc/cdi","42"]`},
		{"features", map[string]any{"containerd-snapshotter": "true"}, `{"containerd-snapshotter":true}`},
		{"default-network-opts", map[string]any{"bridge": map[string]any{"com.docker.network.driver.mtu": 1400}},
			`{"bridge":{"com.docker.network.driver.mtu":"1400"}}`},
		{"default-address-pools", []any{map[string]any{"base": "10.10.0.0/16", "size": "24"}},
			`[{"base":"10.10.0.0/16","size":24}]`},
		{"default-ulimits", map[string]any{"nofile": map[string]any{"Name": "nofile", "Hard": 64000, "Soft": "1024"}},
			`{"nofile":{"Hard":64000,"Name":"nofile","Soft":1024}}`},
		{"proxies", map[string]any{"no-proxy": "localhost,127.0.0.1"}, `{"no-proxy":"localhost,127.0.0.1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			h := daemonHost("", debianUnit)
			task := newDaemonConfig(t, settingsArgs(map[string]any{tt.key: tt.value}))
			out, _ := runTask(task, h, false)
			if out.Status != tasks.StatusChanged {
				t.Fatalf("status = %s (%s)", out.Status, out.Message)
			}

			data, _ := h.File(daemonJSON)
			var doc map[string]json.RawMessage
			if err := json.Unmarshal([]byte(data), &doc); err != nil {
				t.Fatalf("written file is not JSON: %v\n%s", err, data)
			}
			if got := compactJSON(t, doc[tt.key]); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
			}
		})
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func TestDaemonConfigNewRejects(t *testing.T) {
	tests := []struct {
		name string
		args tasks.Args
		want string
	}{
		{"unknown key", settingsArgs(map[string]any{"log-driverr": "local"}),
			`unknown daemon.json key "log-driverr" (did you mean "log-driver"?)`},
		{"several unknown keys", settingsArgs(map[string]any{"no-new-priviledges": true, "zzz": 1}),
			`"no-new-priviledges" (did you mean "no-new-privileges"?), "zzz"`},
		{"proxy key at top level", settingsArgs(map[string]any{"http-proxy": "http://proxy:3128"}),
			`"http-proxy" (set it under "proxies")`},
		{"bool from a word", settingsArgs(map[string]any{"debug": "yes"}),
			`setting "debug": must be true or false, not the string "yes"`},
		{"int from a word", settingsArgs(map[string]any{"mtu": "big"}),
			`setting "mtu": must be an integer`},
		{"fractional int", settingsArgs(map[string]any{"shutdown-timeout": 1.5}),
			`must be an integer, not the number 1.5`},
		{"list in log-opts", settingsArgs(map[string]any{"log-opts": map[string]any{"env": []any{"a"}}}),
			`setting "log-opts": key "env": must be a string, not a list`},
		{"log-opts not a mapping", settingsArgs(map[string]any{"log-opts": "max-size=10m"}),
			`setting "log-opts": must be a mapping`},
		{"bad size", settingsArgs(map[string]any{"default-shm-size": "lots"}),
			`invalid size "lots"`},
		{"pool without size", settingsArgs(map[string]any{
			"default-address-pools": []any{map[string]any{"base": "10.0.0.0/8"}}}),
			`pool 1: missing key "size"`},
		{"unknown proxy key", settingsArgs(map[string]any{"proxies": map[string]any{"ftp-proxy": "x"}}),
			`unknown key "ftp-proxy"`},
		{"null value", settingsArgs(map[string]any{"debug": nil}),
			`null value: list the key in remove to delete it`},
		{"key in settings and remove", tasks.Args{"settings": map[string]any{"debug": true},
			"remove": []string{"debug"}}, `key "debug" is both in settings and in remove`},
		{"nothing to do", settingsArgs(map[string]any{}), "nothing to do"},
		{"relative path", tasks.Args{"settings": map[string]any{"debug": true}, "path": "daemon.json"},
			"use an absolute path"},
		{"bad unit name", tasks.Args{"settings": map[string]any{"debug": true}, "service": "docker; reboot"},
			"invalid systemd unit name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newDaemonConfigErr(tt.args)
			if err == nil {
				t.Fatalf("New succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDaemonConfigRefusesBadExistingFile(t *testing.T) {
	tests := []struct {
		name     string
		existing string
		want     []string
	}{
		{"invalid JSON", "{\n  \"debug\": true,\n}\n",
			[]string{daemonJSON, "invalid JSON at line 3", "left unchanged"}},
		{"not an object", `["debug"]`, []string{daemonJSON, "not a JSON object"}},
		{"unknown keys", `{"debug": true, "graph": "/srv/docker", "log-levle": "info"}`,
			[]string{daemonJSON, `"graph"`, `"log-levle" (did you mean "log-level"?)`, "left unchanged"}},
		{"wrong type", `{"debug": "true"}`, []string{`key "debug": must be true or false`}},
		{"int written as float", `{"mtu": 1500.0}`, []string{`key "mtu": must be an integer, not 1500.0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := daemonHost(tt.existing, debianUnit)
			task := newDaemonConfig(t, settingsArgs(map[string]any{"icc": false}))

			out, undo := runTask(task, h, false)

			if out.Status != tasks.StatusFailed {
				t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.Message, w) {
					t.Errorf("message %q does not contain %q", out.Message, w)
				}
			}
			if got, _ := h.File(daemonJSON); got != tt.existing {
				t.Errorf("file changed to %q", got)
			}
			if len(undo.Records) != 0 {
				t.Errorf("undo records %v", undo.Records)
			}
		})
	}
}

func TestDaemonConfigRemove(t *testing.T) {
	h := daemonHost(`{"graph": "/srv/docker", "debug": true, "icc": false}`, debianUnit)
	task := newDaemonConfig(t, tasks.Args{
		"settings": map[string]any{"icc": false},
		"remove":   []string{"graph", "debug", "absent-key"},
	})

	out, _ := runTask(task, h, false)

	if out.Status != tasks.StatusChanged || out.Message != "graph, debug removed" {
		t.Errorf("outcome = %s %q, want changed \"graph, debug removed\"", out.Status, out.Message)
	}
	if got, _ := h.File(daemonJSON); got != "{\n  \"icc\": false\n}\n" {
		t.Errorf("daemon.json = %q", got)
	}
}

func TestDaemonConfigHostsAndFlags(t *testing.T) {
	socket := []any{"unix:///var/run/docker.sock"}
	tests := []struct {
		name       string
		existing   string
		unit       string
		dockerOpts string // content of /etc/default/docker, or ""
		settings   map[string]any
		status     tasks.Status
		message    []string
		file       string // expected daemon.json after the run; "" to skip the check
	}{
		{
			name: "fd flag keeps hosts out of a new file", unit: debianUnit,
			settings: map[string]any{"hosts": socket, "icc": false},
			status:   tasks.StatusChanged,
			message:  []string{"icc set", "hosts is set by -H fd:// in docker.service", "unix socket only"},
			file:     "{\n  \"icc\": false\n}\n",
		},
		{
			name: "fd flag removes hosts from the file", unit: debianUnit,
			existing: `{"hosts": ["unix:///var/run/docker.sock"], "icc": false}`,
			settings: map[string]any{"hosts": socket, "icc": false},
			status:   tasks.StatusChanged,
			message:  []string{"hosts removed", "unix socket only"},
			file:     "{\n  \"icc\": false\n}\n",
		},
		{
			name: "fd flag and nothing to change", unit: debianUnit,
			existing: `{"icc": false}`,
			settings: map[string]any{"hosts": socket},
			status:   tasks.StatusOK,
			message:  []string{"already set; hosts is set by -H fd://"},
		},
		{
			name: "tcp flag from DOCKER_OPTS", unit: debianUnit,
			dockerOpts: "# Docker options\nDOCKER_OPTS=\"-H tcp://0.0.0.0:2375 --dns 192.0.2.53\"\n",
			settings:   map[string]any{"hosts": socket},
			status:     tasks.StatusFailed,
			message:    []string{"docker.service passes -H tcp://0.0.0.0:2375", "exposes the Docker API"},
		},
		{
			name: "tcp requested with fd flag", unit: debianUnit,
			settings: map[string]any{"hosts": []any{"tcp://127.0.0.1:2376"}},
			status:   tasks.StatusFailed,
			message:  []string{`docker.service sets key "hosts" (flag -H fd://)`, "fails to start"},
		},
		{
			name: "no -H flag writes hosts", unit: unitWith("/usr/bin/dockerd --containerd=/run/containerd/containerd.sock"),
			settings: map[string]any{"hosts": socket},
			status:   tasks.StatusChanged,
			file:     "{\n  \"hosts\": [\n    \"unix:///var/run/docker.sock\"\n  ]\n}\n",
		},
		{
			name: "flag conflict on a requested key", unit: unitWith("/usr/bin/dockerd -H fd:// --log-level=debug"),
			settings: map[string]any{"log-level": "info"},
			status:   tasks.StatusFailed,
			message:  []string{"docker.service", `key "log-level" (flag --log-level=debug)`, daemonJSON, "left unchanged"},
		},
		{
			name: "flag conflict on a kept key", unit: upstreamUnit,
			existing: `{"containerd": "/run/containerd/containerd.sock"}`,
			settings: map[string]any{"icc": false},
			status:   tasks.StatusFailed,
			message:  []string{`key "containerd" (flag --containerd=/run/containerd/containerd.sock)`},
		},
		{
			name: "short flag conflict from DOCKER_OPTS", unit: debianUnit,
			dockerOpts: "DOCKER_OPTS='-D -s overlay2'\n",
			settings:   map[string]any{"storage-driver": "overlay2"},
			status:     tasks.StatusFailed,
			message:    []string{`key "storage-driver" (flag -s overlay2)`},
		},
		{
			name: "proxy flag conflicts with proxies", unit: unitWith("/usr/bin/dockerd --http-proxy http://proxy:3128"),
			settings: map[string]any{"proxies": map[string]any{"http-proxy": "http://proxy:3128"}},
			status:   tasks.StatusFailed,
			message:  []string{`key "proxies.http-proxy" (flag --http-proxy http://proxy:3128)`},
		},
		{
			name: "add-runtime does not conflict", unit: unitWith("/usr/bin/dockerd --add-runtime crun=/usr/bin/crun"),
			settings: map[string]any{"runtimes": map[string]any{"runsc": map[string]any{"path": "/usr/bin/runsc"}}},
			status:   tasks.StatusChanged,
		},
		{
			name: "other config file", unit: unitWith("/usr/bin/dockerd --config-file /srv/docker.json"),
			settings: map[string]any{"icc": false},
			status:   tasks.StatusFailed,
			message:  []string{"--config-file /srv/docker.json", "set path to /srv/docker.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := daemonHost(tt.existing, tt.unit)
			if tt.dockerOpts != "" {
				h.SetFile("/etc/default/docker", tt.dockerOpts)
			}
			out, _ := runTask(newDaemonConfig(t, settingsArgs(tt.settings)), h, false)

			if out.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", out.Status, out.Message, tt.status)
			}
			for _, w := range tt.message {
				if !strings.Contains(out.Message, w) {
					t.Errorf("message %q does not contain %q", out.Message, w)
				}
			}
			got, _ := h.File(daemonJSON)
			if tt.status == tasks.StatusFailed && got != tt.existing {
				t.Errorf("file changed to %q on failure", got)
			}
			if tt.file != "" && got != tt.file {
				t.Errorf("daemon.json = %q, want %q", got, tt.file)
			}
		})
	}
}

func TestDaemonConfigProcessFallback(t *testing.T) {
	h := tasktest.NewHost()
	replyState(h, "--fleetharden-section--\n/usr/bin/dockerd\n--log-level\nwarn\n", runningDaemon)
	task := newDaemonConfig(t, settingsArgs(map[string]any{"log-level": "info"}))

	out, _ := runTask(task, h, false)

	if out.Status != tasks.StatusFailed {
		t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
	}
	if !strings.Contains(out.Message, "the running dockerd process sets key \"log-level\"") {
		t.Errorf("message = %q", out.Message)
	}
}

func TestDaemonConfigCheckMode(t *testing.T) {
	existing := "{\n  \"debug\": true\n}\n"
	h := daemonHost(existing, debianUnit)
	task := newDaemonConfig(t, settingsArgs(map[string]any{"no-new-privileges": true}))

	out, undo := runTask(task, h, true)

	if out.Status != tasks.StatusChanged || out.Message != "no-new-privileges set" {
		t.Errorf("outcome = %s %q, want changed \"no-new-privileges set\"", out.Status, out.Message)
	}
	if len(h.Writes) != 0 {
		t.Errorf("check mode wrote %v", h.Writes)
	}
	if len(undo.Records) != 0 {
		t.Errorf("check mode recorded undo %v", undo.Records)
	}
	wantDiff := "--- " + daemonJSON + "\n+++ " + daemonJSON + "\n@@ -1,3 +1,4 @@\n {\n" +
		"-  \"debug\": true\n+  \"debug\": true,\n+  \"no-new-privileges\": true\n }\n"
	if out.Diff != wantDiff {
		t.Errorf("diff =\n%s\nwant\n%s", out.Diff, wantDiff)
	}
}

func TestDaemonConfigSavesBeforeWrite(t *testing.T) {
	existing := `{"debug": true}`
	h := daemonHost(existing, debianUnit)
	undo := &tasktest.Undo{}
	h.WriteErr = func(path string) error {
		// The write must come after the undo record of the same file.
		if prev, ok := undo.Saved[path]; !ok || string(prev.Data) != existing {
			t.Errorf("write of %s before Undo.SaveFile recorded its content", path)
		}
		return nil
	}
	task := newDaemonConfig(t, settingsArgs(map[string]any{"debug": false}))

	out := task.Run(context.Background(), &tasks.Env{Host: h, Undo: undo})

	if out.Status != tasks.StatusChanged {
		t.Fatalf("status = %s (%s), want changed", out.Status, out.Message)
	}
	if len(undo.Records) != 1 || undo.Records[0] != "file "+daemonJSON {
		t.Errorf("undo records = %v", undo.Records)
	}
}

func TestDaemonConfigWriteError(t *testing.T) {
	h := daemonHost("", debianUnit)
	// Like transport.Client, the fake names the operation and the file.
	h.WriteErr = func(path string) error {
		return fmt.Errorf("write %s: %w", path, context.DeadlineExceeded)
	}
	task := newDaemonConfig(t, settingsArgs(map[string]any{"debug": false}))

	out, _ := runTask(task, h, false)

	if out.Status != tasks.StatusFailed {
		t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
	}
	if want := "write " + daemonJSON + ": context deadline exceeded"; out.Message != want {
		t.Errorf("message = %q, want %q, naming the write once", out.Message, want)
	}
	if !errors.Is(out.Err, context.DeadlineExceeded) {
		t.Errorf("Err = %v, want it to wrap the cause", out.Err)
	}
}
