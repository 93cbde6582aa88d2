package audit

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseDaemonFlagsSpellings(t *testing.T) {
	tests := []struct {
		argv string
		want daemonFlags
	}{
		{"dockerd -H tcp://0.0.0.0:2375", daemonFlags{"host": {"tcp://0.0.0.0:2375"}}},
		{"dockerd -Htcp://0.0.0.0:2375", daemonFlags{"host": {"tcp://0.0.0.0:2375"}}},
		{"dockerd -H=tcp://0.0.0.0:2375", daemonFlags{"host": {"tcp://0.0.0.0:2375"}}},
		{"dockerd --host tcp://0.0.0.0:2375", daemonFlags{"host": {"tcp://0.0.0.0:2375"}}},
		{"dockerd --host=tcp://0.0.0.0:2375", daemonFlags{"host": {"tcp://0.0.0.0:2375"}}},
		{"dockerd -DH fd://", daemonFlags{"debug": {""}, "host": {"fd://"}}},
		{"dockerd --tlsverify --icc=false", daemonFlags{"tlsverify": {""}, "icc": {"false"}}},
		{"dockerd --no-new-privileges -H fd://", daemonFlags{"no-new-privileges": {""},
			"host": {"fd://"}}},
		{"dockerd --log-opt max-size=10m --log-opt=max-file=3",
			daemonFlags{"log-opt": {"max-size=10m", "max-file=3"}}},
		{"dockerd --config-file /srv/d.json -- -H x", daemonFlags{"config-file": {"/srv/d.json"}}},
	}
	for _, tt := range tests {
		got := parseDaemonFlags(strings.Fields(tt.argv))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseDaemonFlags(%q) = %v, want %v", tt.argv, got, tt.want)
		}
	}
}

// configFor returns the daemon configuration of a command line and a daemon.json.
func configFor(t *testing.T, argv, daemonJSON string) *daemonConfig {
	t.Helper()
	p := &probes{configPath: defaultConfigFile}
	p.DockerdCmdline.Stdout = strings.ReplaceAll(argv, " ", "\n")
	p.Socket.Stdout = "Listen=/run/docker.sock (Stream)\n" +
		"FragmentPath=/lib/systemd/system/docker.socket"
	if daemonJSON == "" {
		p.DaemonJSON = probe{Exit: 1, Stderr: "cat: /etc/docker/daemon.json: No such file or directory"}
	} else {
		p.DaemonJSON.Stdout = daemonJSON
	}
	return newDaemonConfig(p)
}

func TestDaemonHostsSpellings(t *testing.T) {
	tests := []struct {
		argv, file string
		want       []string
	}{
		{"dockerd", "", []string{"unix:///var/run/docker.sock"}},
		{"dockerd -H fd://", "", []string{"unix:///run/docker.sock"}},
		{"dockerd -H tcp://0.0.0.0:2375", "", []string{"tcp://0.0.0.0:2375"}},
		{"dockerd --host=tcp://0.0.0.0:2375", "", []string{"tcp://0.0.0.0:2375"}},
		{"dockerd", `{"hosts": ["tcp://0.0.0.0:2375"]}`, []string{"tcp://0.0.0.0:2375"}},
		{"dockerd -H fd://", `{"hosts": "0.0.0.0:2376"}`,
			[]string{"unix:///run/docker.sock", "tcp://0.0.0.0:2376"}},
		{"dockerd -H unix:///var/run//docker.sock -H :2375", "",
			[]string{"unix:///var/run/docker.sock", "tcp://:2375"}},
		{"dockerd -H unix://", "", []string{"unix:///var/run/docker.sock"}},
	}
	for _, tt := range tests {
		got := configFor(t, tt.argv, tt.file).hosts()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("hosts of %q with %s = %v, want %v", tt.argv, tt.file, got, tt.want)
		}
	}
}

func TestDaemonBooleanSpellings(t *testing.T) {
	tests := []struct {
		argv, file string
		want       bool
	}{
		{"dockerd", "", false},
		{"dockerd --no-new-privileges", "", true},
		{"dockerd --no-new-privileges=true", "", true},
		{"dockerd --no-new-privileges=1", "", true},
		{"dockerd --no-new-privileges=false", "", false},
		{"dockerd", `{"no-new-privileges": true}`, true},
		{"dockerd", `{"no-new-privileges": false}`, false},
	}
	for _, tt := range tests {
		cfg := configFor(t, tt.argv, tt.file)
		if got := cfg.boolean("no-new-privileges", "no-new-privileges", false); got != tt.want {
			t.Errorf("no-new-privileges of %q with %s = %v, want %v", tt.argv, tt.file, got, tt.want)
		}
	}
}

func TestDaemonConfigErrors(t *testing.T) {
	cfg := configFor(t, "dockerd", `{"icc": false,`)
	if !strings.Contains(cfg.fileErr, "parse /etc/docker/daemon.json") {
		t.Errorf("fileErr = %q, want a parse error naming the file", cfg.fileErr)
	}
	if len(cfg.settings) != 0 {
		t.Errorf("settings = %v, want none from a file that does not parse", cfg.settings)
	}
}

func TestLogOptsFromFlagsAndFile(t *testing.T) {
	cfg := configFor(t, "dockerd --log-opt max-file=5", `{"log-opts": {"max-size": "10m"}}`)
	want := map[string]string{"max-size": "10m", "max-file": "5"}
	if got := cfg.logOpts(); !reflect.DeepEqual(got, want) {
		t.Errorf("logOpts = %v, want %v", got, want)
	}
}

func TestContainerSecurityOptSpellings(t *testing.T) {
	on, off := true, false
	tests := []struct {
		opts    []string
		nnp     *bool
		seccomp string
	}{
		{nil, nil, "default"},
		{[]string{"no-new-privileges"}, &on, "default"},
		{[]string{"no-new-privileges:true"}, &on, "default"},
		{[]string{"no-new-privileges=true"}, &on, "default"},
		{[]string{"no-new-privileges=false"}, &off, "default"},
		{[]string{"no-new-privileges:maybe"}, nil, "default"},
		{[]string{"seccomp=unconfined"}, nil, "unconfined"},
		{[]string{"seccomp:unconfined"}, nil, "unconfined"},
		{[]string{"Seccomp=Unconfined"}, nil, "unconfined"},
		{[]string{`seccomp={"defaultAction":"SCMP_ACT_ERRNO"}`}, nil, "custom"},
	}
	for _, tt := range tests {
		var c Container
		c.SeccompProfile = "default"
		c.setSecurityOptions(tt.opts)
		if !reflect.DeepEqual(c.NoNewPrivileges, tt.nnp) {
			t.Errorf("%q: no_new_privileges = %v, want %v", tt.opts, c.NoNewPrivileges, tt.nnp)
		}
		if c.SeccompProfile != tt.seccomp {
			t.Errorf("%q: seccomp_profile = %q, want %q", tt.opts, c.SeccompProfile, tt.seccomp)
		}
	}
}

func TestPrivilegedContainerHasNoSeccomp(t *testing.T) {
	c := Container{Privileged: true, SeccompProfile: "default"}
	c.setSecurityOptions(nil)
	if c.SeccompProfile != "unconfined" {
		t.Errorf("privileged seccomp_profile = %q, want unconfined", c.SeccompProfile)
	}
}

func TestCapabilitySpellings(t *testing.T) {
	got := normalizeCapabilities([]string{"cap_sys_admin", "SYS_ADMIN", " Cap_Net_Raw", "ALL"})
	want := []string{"ALL", "NET_RAW", "SYS_ADMIN"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("normalizeCapabilities = %v, want %v", got, want)
	}
}

func TestMountExposesSocket(t *testing.T) {
	sockets := []string{"/run/docker.sock", "/srv/docker/api.sock"}
	tests := map[string]bool{
		"/var/run/docker.sock":  true,
		"/run/docker.sock":      true,
		"/var/run":              true,
		"/run":                  true,
		"/":                     true,
		"/srv/docker":           true,
		"/var":                  false,
		"/run/user":             false,
		"/srv/docker/api.sock2": false,
		"":                      false,
	}
	for source, want := range tests {
		if got := exposesSocket(source, sockets); got != want {
			t.Errorf("exposesSocket(%q) = %v, want %v", source, got, want)
		}
	}
}

func TestParseContainersArrayAndLines(t *testing.T) {
	cfg := configFor(t, "dockerd", "")
	array := `[{"Id":"b1","Name":"/b","HostConfig":{"CapAdd":["net_raw"]}},` +
		`{"Id":"a1","Name":"/a"}]`
	lines := "{\"Id\":\"b1\",\"Name\":\"/b\",\"HostConfig\":{\"CapAdd\":[\"net_raw\"]}}\n" +
		"{\"Id\":\"a1\",\"Name\":\"/a\"}\n"
	for name, out := range map[string]string{"array": array, "lines": lines} {
		got, err := parseContainers(out, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 2 || got[0].Name != "a" || got[1].CapAdd[0] != "NET_RAW" {
			t.Errorf("%s: containers = %+v, want a, then b adding NET_RAW", name, got)
		}
	}
	if _, err := parseContainers("{not json", cfg); err == nil {
		t.Error("parseContainers accepted a line that is not JSON")
	}
}
