package tasks_test

import (
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
)

func TestDaemonConfigRejectsBadValues(t *testing.T) {
	jsonFile := func(opts map[string]any) map[string]any {
		return map[string]any{"log-driver": "json-file", "log-opts": opts}
	}
	ulimit := func(name string, hard, soft int) map[string]any {
		return map[string]any{"nofile": map[string]any{"Name": name, "Hard": hard, "Soft": soft}}
	}
	tests := []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"label without =", map[string]any{"labels": []any{"env=prod", "nolabel"}},
			`setting "labels": item 2: invalid label "nolabel": use the form key=value`},
		{"label key twice", map[string]any{"labels": []any{"env=prod", "env=test"}},
			`labels "env=prod" and "env=test" give the key "env" two values`},
		{"max-size word", jsonFile(map[string]any{"max-size": "banana"}),
			`setting "log-opts": invalid max-size "banana"`},
		{"max-size zero", jsonFile(map[string]any{"max-size": "0"}), `invalid max-size "0"`},
		{"max-file zero", jsonFile(map[string]any{"max-file": 0}), `invalid max-file "0"`},
		{"max-file word", jsonFile(map[string]any{"max-file": "three"}), `invalid max-file "three"`},
		{"compress word", jsonFile(map[string]any{"compress": "yes"}), `invalid compress "yes"`},
		{"mode", jsonFile(map[string]any{"mode": "async"}), `invalid mode "async"`},
		{"max-buffer-size", jsonFile(map[string]any{"max-buffer-size": "lots"}),
			`invalid max-buffer-size "lots"`},
		{"unknown json-file option", jsonFile(map[string]any{"max-sise": "10m"}),
			`unknown log option "max-sise" for the json-file log driver`},
		{"unknown local option", map[string]any{"log-driver": "local",
			"log-opts": map[string]any{"syslog-address": "udp://192.0.2.1:514"}},
			`unknown log option "syslog-address" for the local log driver`},
		{"ssh host", map[string]any{"hosts": []any{"ssh://admin@host"}},
			"ssh:// is an address for the docker client"},
		{"npipe host", map[string]any{"hosts": []any{"npipe:////./pipe/docker"}},
			`unsupported scheme "npipe"`},
		{"http host", map[string]any{"hosts": []any{"http://0.0.0.0:2375"}},
			`unsupported scheme "http"`},
		{"tcp port out of range", map[string]any{"hosts": []any{"tcp://0.0.0.0:99999"}},
			`invalid port "99999"`},
		{"tcp port word", map[string]any{"hosts": []any{"tcp://0.0.0.0:docker"}},
			`invalid address "tcp://0.0.0.0:docker"`},
		{"tcp path", map[string]any{"hosts": []any{"tcp://0.0.0.0:2375/api"}},
			"without a path"},
		{"unix with a second scheme", map[string]any{"hosts": []any{"unix://tcp://x"}},
			"a unix address is unix://PATH"},
		{"dns with port", map[string]any{"dns": []any{"192.0.2.53:53"}},
			`item 1: invalid IP address "192.0.2.53:53"`},
		{"dns name", map[string]any{"dns": []any{"dns.example.org"}}, "invalid IP address"},
		{"dns-search number", map[string]any{"dns-search": []any{"42"}},
			`invalid search domain "42"`},
		{"insecure registry scheme", map[string]any{"insecure-registries": []any{"ftp://r:5000"}},
			"without a scheme"},
		{"insecure registry path", map[string]any{"insecure-registries": []any{"https://r:5000/v2"}},
			`invalid insecure registry "https://r:5000/v2"`},
		{"insecure registry hyphen", map[string]any{"insecure-registries": []any{"-r.example"}},
			"must not begin or end with '-'"},
		{"mirror without scheme", map[string]any{"registry-mirrors": []any{"mirror.example.org"}},
			"use an http:// or https:// URL"},
		{"mirror with path", map[string]any{"registry-mirrors": []any{"https://m.example.org/v2"}},
			"remove the path"},
		{"mirror with password", map[string]any{"registry-mirrors": []any{"https://u:secret@m.example.org"}},
			"https://u:xxxxx@m.example.org"},
		{"ulimit name", map[string]any{"default-ulimits": ulimit("files", 10, 10)},
			`ulimit "nofile": unknown Name "files"`},
		{"ulimit soft above hard", map[string]any{"default-ulimits": ulimit("nofile", 1024, 4096)},
			"Soft 4096 is above Hard 1024"},
		{"ulimit unlimited soft", map[string]any{"default-ulimits": ulimit("nofile", 1024, -1)},
			"Soft -1 is above Hard 1024"},
		{"log level", map[string]any{"log-level": "verbose"}, `invalid log level "verbose"`},
		{"log level warning", map[string]any{"log-level": "warning"}, "use warn"},
		{"log format", map[string]any{"log-format": "logfmt"}, `invalid log format "logfmt"`},
		{"negative mtu", map[string]any{"mtu": -1}, `setting "mtu": invalid value -1`},
		{"diagnostic port", map[string]any{"network-diagnostic-port": 70000}, "invalid port 70000"},
		{"bip without prefix", map[string]any{"bip": "172.17.0.1"}, `invalid CIDR "172.17.0.1"`},
		{"gateway", map[string]any{"default-gateway": "gw"}, `invalid IP address "gw"`},
		{"pool size", map[string]any{"default-address-pools": []any{
			map[string]any{"base": "10.10.0.0/16", "size": 8}}},
			"pool 1: invalid size 8 for base 10.10.0.0/16: use a prefix length from 16 to 32"},
		{"exec-opt", map[string]any{"exec-opts": []any{"native.cgroupdriver"}},
			`invalid exec-opt "native.cgroupdriver"`},
		{"generic resource", map[string]any{"node-generic-resources": []any{"gpu"}},
			`invalid node generic resource "gpu"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newDaemonConfigErr(settingsArgs(tt.settings))
			if err == nil {
				t.Fatalf("New succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDaemonConfigAcceptsValues(t *testing.T) {
	tests := map[string]any{
		"labels": []any{"env=prod", "rack=a=b", "env=prod"},
		"hosts": []any{"unix:///var/run/docker.sock", "tcp://127.0.0.1:2376", "fd://",
			"127.0.0.1:2375", "tcp://", "", "tcp://[::1]:2375"},
		"log-opts": map[string]any{"max-size": "10m", "max-file": "3", "compress": "true",
			"mode": "non-blocking", "max-buffer-size": "4m", "tag": "{{.Name}}", "labels": "a,b",
			"env": "X", "env-regex": "^X", "labels-regex": "^a"},
		"dns":                 []any{"192.0.2.53", "2001:db8::53"},
		"dns-search":          []any{"example.org", ".", "corp.example."},
		"insecure-registries": []any{"registry.local:5000", "10.0.0.0/8", "http://r.example:5000", "[2001:db8::1]:5000", "192.0.2.1", "localhost"},
		"registry-mirrors":    []any{"https://mirror.example.org", "http://192.0.2.1:5000/"},
		"default-ulimits": map[string]any{
			"nofile":  map[string]any{"Name": "nofile", "Hard": 64000, "Soft": 1024},
			"memlock": map[string]any{"Name": "memlock", "Hard": -1, "Soft": -1}},
		"log-level":             "INFO",
		"default-address-pools": []any{map[string]any{"base": "10.10.0.0/16", "size": 24}},
		"exec-opts":             []any{"native.cgroupdriver=systemd"},
		"bip":                   "172.17.0.1/16",
	}
	for key, value := range tests {
		t.Run(key, func(t *testing.T) {
			settings := map[string]any{key: value}
			if key == "log-opts" {
				settings["log-driver"] = "json-file"
			}
			if err := newDaemonConfigErr(settingsArgs(settings)); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

func TestDaemonConfigLogOptsOfOtherDrivers(t *testing.T) {
	settings := map[string]any{"log-driver": "syslog", "log-opts": map[string]any{
		"syslog-address": "udp://192.0.2.1:514", "max-size": "banana"}}
	h := daemonHost("", debianUnit)

	out, _ := runTask(newDaemonConfig(t, settingsArgs(settings)), h, false)

	if out.Status != tasks.StatusChanged {
		t.Errorf("status = %s (%s), want changed: syslog options are free-form", out.Status,
			out.Message)
	}
}

func TestDaemonConfigRejectsBadSizeWithoutDriver(t *testing.T) {
	kind, _ := tasks.Lookup("docker_daemon_config")

	_, err := kind.New(settingsArgs(map[string]any{
		"log-opts": map[string]any{"max-size": "banana"}}))

	if err == nil || !strings.Contains(err.Error(), `invalid max-size "banana"`) {
		t.Errorf("New error = %v, want the invalid max-size before any host is contacted", err)
	}
}

func TestDaemonConfigChecksMergedLogOpts(t *testing.T) {
	// A size of 0 is valid for the local driver and not for json-file, so only the merged
	// file, which names the driver, can tell.
	zero := map[string]any{"log-opts": map[string]any{"max-size": "0"}}
	tests := []struct {
		name     string
		existing string
		unit     string
		settings map[string]any
		status   tasks.Status
		message  string
	}{
		{"default driver", "", debianUnit, zero, tasks.StatusFailed,
			`key "log-opts": invalid max-size "0"`},
		{"driver in the file", `{"log-driver": "json-file"}`, debianUnit, zero,
			tasks.StatusFailed, `invalid max-size "0"`},
		{"driver in the file takes any option", `{"log-driver": "journald"}`, debianUnit,
			zero, tasks.StatusChanged, "log-opts set"},
		{"driver from a flag", "", unitWith("/usr/bin/dockerd --log-driver=local"),
			map[string]any{"log-opts": map[string]any{"max-file": "1"}}, tasks.StatusFailed,
			`max-file "1" needs compress false for the local log driver`},
		{"bad value kept in the file", `{"log-opts": {"max-size": "banana"}}`, debianUnit,
			map[string]any{"icc": false}, tasks.StatusFailed, `invalid max-size "banana"`},
		{"compress without max-size", `{"log-opts": {"max-file": "3"}}`, debianUnit,
			map[string]any{"log-opts": map[string]any{"compress": true}}, tasks.StatusFailed,
			"compress true needs max-file of at least 2 and max-size"},
		{"compress with max-size from the file", `{"log-opts": {"max-file": "3", "max-size": "10m"}}`,
			debianUnit, map[string]any{"log-opts": map[string]any{"compress": true}},
			tasks.StatusChanged, "log-opts set"},
		{"buffer without non-blocking", "", debianUnit,
			map[string]any{"log-opts": map[string]any{"max-buffer-size": "4m"}},
			tasks.StatusFailed, "max-buffer-size needs mode non-blocking"},
		{"bad label kept in the file", `{"labels": ["nolabel"]}`, debianUnit,
			map[string]any{"icc": false}, tasks.StatusFailed,
			`key "labels": item 1: invalid label "nolabel"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := daemonHost(tt.existing, tt.unit)

			out, _ := runTask(newDaemonConfig(t, settingsArgs(tt.settings)), h, false)

			if out.Status != tt.status {
				t.Fatalf("status = %s (%s), want %s", out.Status, out.Message, tt.status)
			}
			if !strings.Contains(out.Message, tt.message) {
				t.Errorf("message = %q, want it to contain %q", out.Message, tt.message)
			}
			got, _ := h.File(daemonJSON)
			if tt.status == tasks.StatusFailed && got != tt.existing {
				t.Errorf("file changed to %q on failure", got)
			}
		})
	}
}
