package audit

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/transport"
)

// fakeHost returns canned outputs from Run, in order, and records the commands.
type fakeHost struct {
	outputs   [][]byte
	err       error
	truncated bool
	cmds      []string
}

func (h *fakeHost) Run(_ context.Context, cmd string, _ []byte) (transport.Result, error) {
	h.cmds = append(h.cmds, cmd)
	if h.err != nil {
		return transport.Result{}, h.err
	}
	if len(h.outputs) == 0 {
		return transport.Result{ExitCode: 1, Stderr: []byte("unexpected command")}, nil
	}
	out := h.outputs[0]
	h.outputs = h.outputs[1:]
	return transport.Result{Stdout: out, Truncated: h.truncated}, nil
}

// readProbes returns the probes of a fixture recorded on a lab host.
func readProbes(t *testing.T, name string) *probes {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseProbes(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// encodeProbes returns p as the gather script prints it.
func encodeProbes(t *testing.T, p *probes) []byte {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// stateOf normalises probes, failing the test on error.
func stateOf(t *testing.T, p *probes) *State {
	t.Helper()
	s, err := newState(p)
	if err != nil {
		t.Fatalf("newState: %v", err)
	}
	return s
}

func TestGatherLabDefault(t *testing.T) {
	data, err := os.ReadFile("testdata/lab-default.json")
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHost{outputs: [][]byte{data}}

	s, err := Gather(context.Background(), h)
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if len(h.cmds) != 1 {
		t.Errorf("Gather ran %d commands, want 1", len(h.cmds))
	}
	d := s.Daemon
	if want := []string{"unix:///run/docker.sock"}; !reflect.DeepEqual(d.Hosts, want) {
		t.Errorf("hosts = %v, want %v (fd:// is what docker.socket listens on)", d.Hosts, want)
	}
	if len(d.TCPEndpoints) != 0 {
		t.Errorf("tcp_endpoints = %v, want none", d.TCPEndpoints)
	}
	if d.NoNewPrivileges || !d.UserlandProxy || !d.ICC || d.LiveRestore {
		t.Errorf("daemon = %+v, want dockerd's defaults", d)
	}
	if d.LogDriver != "json-file" || len(d.LogOpts) != 0 {
		t.Errorf("log driver %q with %v, want json-file without options", d.LogDriver, d.LogOpts)
	}
	if d.SeccompProfile != "default" || d.AppArmor {
		t.Errorf("seccomp %q, apparmor %v, want default and false", d.SeccompProfile, d.AppArmor)
	}
	if d.ConfigError != "" || len(d.Config) != 0 {
		t.Errorf("config = %v (error %q), want none: daemon.json is absent", d.Config, d.ConfigError)
	}
}

func TestGatherLabFiles(t *testing.T) {
	s := stateOf(t, readProbes(t, "lab-default.json"))
	want := map[string]File{
		FileDaemonJSON: {Path: "/etc/docker/daemon.json"},
		FileDockerSocket: {Path: "/run/docker.sock", Exists: true, Owner: "root",
			Group: "docker", Mode: "0660", Type: "socket"},
		FileDockerService: {Path: "/lib/systemd/system/docker.service", Exists: true,
			Owner: "root", Group: "root", Mode: "0644", Type: "regular file"},
		FileEtcDocker: {Path: "/etc/docker", Exists: true, Owner: "root", Group: "root",
			Mode: "0755", Type: "directory"},
		FileEtcSysconfigDocker: {Path: "/etc/sysconfig/docker"},
	}
	for key, w := range want {
		if got := s.Files[key]; got != w {
			t.Errorf("files[%s] = %+v, want %+v", key, got, w)
		}
	}
}

func TestGatherReadsConfigFileFlag(t *testing.T) {
	p := readProbes(t, "lab-default.json")
	p.DockerdCmdline.Stdout = "/usr/sbin/dockerd\n--config-file\n/srv/docker.json\n-H\nfd://"
	extra := `{"format":1,` +
		`"daemon_json":{"stdout":"{\"userland-proxy\": false}","stderr":"","exit":0},` +
		`"stat":{"stdout":"/srv/docker.json\troot\tstaff\t664\tregular file",` +
		`"stderr":"","exit":0},"end":true}`
	h := &fakeHost{outputs: [][]byte{encodeProbes(t, p), []byte(extra)}}

	s, err := Gather(context.Background(), h)
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if len(h.cmds) != 2 {
		t.Fatalf("Gather ran %d commands, want 2", len(h.cmds))
	}
	if !strings.Contains(h.cmds[1], "cat -- '/srv/docker.json'") {
		t.Errorf("second command does not read the file:\n%s", h.cmds[1])
	}
	if s.Daemon.ConfigFile != "/srv/docker.json" {
		t.Errorf("config file = %s, want /srv/docker.json", s.Daemon.ConfigFile)
	}
	if s.Daemon.UserlandProxy {
		t.Errorf("userland_proxy = true, want false from /srv/docker.json")
	}
	want := File{Path: "/srv/docker.json", Exists: true, Owner: "root", Group: "staff",
		Mode: "0664", Type: "regular file"}
	if got := s.Files[FileDaemonJSON]; got != want {
		t.Errorf("files[daemon_json] = %+v, want %+v", got, want)
	}
}

func TestGatherStopsAfterThreeCommands(t *testing.T) {
	p := readProbes(t, "lab-default.json")
	p.DockerdCmdline.Stdout = "/usr/sbin/dockerd\n--config-file=/srv/a.json\n-H\nunix:///srv/a.sock"
	empty := []byte(`{"format":1,"end":true}`)
	h := &fakeHost{outputs: [][]byte{encodeProbes(t, p), empty, empty, empty}}

	if _, err := Gather(context.Background(), h); err != nil {
		t.Fatalf("Gather: %v", err)
	}
	if len(h.cmds) > maxGatherRounds {
		t.Errorf("Gather ran %d commands, want at most %d", len(h.cmds), maxGatherRounds)
	}
	if !strings.Contains(h.cmds[1], "'/srv/a.sock'") {
		t.Errorf("second command does not stat the socket:\n%s", h.cmds[1])
	}
}

func TestGatherErrors(t *testing.T) {
	down := readProbes(t, "lab-default.json")
	down.DockerInfo = probe{Exit: 1, Stderr: "Cannot connect to the Docker daemon at " +
		"unix:///var/run/docker.sock. Is the docker daemon running?"}
	missing := readProbes(t, "lab-default.json")
	missing.DockerInfo = probe{Exit: 127, Stderr: "sh: 1: docker: not found"}
	lost := errors.New("connection lost")

	tests := []struct {
		name string
		host *fakeHost
		want string
	}{
		{"daemon down", &fakeHost{outputs: [][]byte{encodeProbes(t, down)}},
			"docker info: exit status 1: Cannot connect"},
		{"no docker", &fakeHost{outputs: [][]byte{encodeProbes(t, missing)}},
			"docker info: command not found"},
		{"not JSON", &fakeHost{outputs: [][]byte{[]byte("sudo: a password is required")}},
			"parse the output of the gather script"},
		{"transport", &fakeHost{err: lost}, "connection lost"},
		{"truncated", &fakeHost{outputs: [][]byte{[]byte(`{"format":1,`)}, truncated: true},
			"the output is over the 4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Gather(context.Background(), tt.host)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Gather error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestProbeScriptJSON runs the probe functions in the local sh, with each awk that the
// machine has, on output that JSON must escape, and checks that the object parses back
// to the same text.
func TestProbeScriptJSON(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	awks := map[string]string{"mawk": "mawk", "gawk": "gawk", "busybox": "busybox awk"}
	for name, awk := range awks {
		t.Run(name, func(t *testing.T) {
			if _, err := exec.LookPath(strings.Fields(awk)[0]); err != nil {
				t.Skipf("no %s here", name)
			}
			bin := t.TempDir()
			wrapper := "#!/bin/sh\nexec " + awk + " \"$@\"\n"
			if err := os.WriteFile(filepath.Join(bin, "awk"), []byte(wrapper), 0o755); err != nil {
				t.Fatal(err)
			}
			checkProbeJSON(t, "PATH="+bin+":"+os.Getenv("PATH"))
		})
	}
}

// checkProbeJSON runs the probe functions with the environment variable env.
func checkProbeJSON(t *testing.T, env string) {
	script := probeFunctions + `printf '{"format":1,'
probe docker_info sh -c 'printf "a\"b\\\\c\td\001e\r\nexit=2\n"
	printf "warn\\\\ing exit=9\n" >&2; exit 3'
probe containers true
printf '"end":true}\n'`
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}

	p, err := parseProbes(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := probe{Stdout: "a\"b\\c\tde\r\nexit=2", Stderr: "warn\\ing exit=9", Exit: 3}
	if p.DockerInfo != want {
		t.Errorf("probe = %#v, want %#v", p.DockerInfo, want)
	}
	if p.Containers != (probe{}) {
		t.Errorf("empty probe = %#v, want zero", p.Containers)
	}
}

// stubCommands are shell scripts that stand in for docker, systemctl, ss, getent and
// cat, so that the whole gather script runs in the local sh without Docker. STUB_DIR
// and STUB_PID are set by the test.
var stubCommands = map[string]string{
	"docker": `case "$1" in
info) echo '{"ServerVersion":"20.10.24","LoggingDriver":"json-file",' \
	'"SecurityOptions":["name=seccomp,profile=default","name=apparmor"]}' ;;
ps) printf '0123456789abcdef\nfedcba9876543210\n' ;;
inspect) echo '{"Id":"0123456789abcdef","Name":"/web",' \
	'"HostConfig":{"Privileged":true,"CapAdd":["cap_net_admin"]}}'
	echo '{"Id":"fedcba9876543210","Name":"/db","HostConfig":{"ReadonlyRootfs":true}}' ;;
network) echo '[{"Options":{"com.docker.network.bridge.enable_icc":"false"}}]' ;;
esac`,
	"systemctl": `case "$*" in
"show -p FragmentPath --value docker.service docker.socket")
	printf '%s\n\n' "$STUB_DIR/docker.service" ;;
"show -p MainPID --value docker.service") echo "$STUB_PID" ;;
*docker.service) printf 'MainPID=%s\nFragmentPath=%s\n' "$STUB_PID" "$STUB_DIR/docker.service" ;;
*docker.socket) echo 'Unit docker.socket could not be found.' >&2; exit 4 ;;
esac`,
	"ss": `echo 'LISTEN 0 4096 *:2375 *:* users:(("dockerd",pid=1,fd=3))'`,
	"getent": `case "$1" in
group) echo 'docker:x:999:alice,bob' ;;
passwd) echo 'carol:x:1001:999::/home/carol:/bin/sh'; echo 'dave:x:1002:1002::/:/bin/sh' ;;
esac`,
	"cat": `echo '{"live-restore": true, "hosts": ["unix:///run/docker.sock"]}'`,
}

func TestGatherScriptWithStubs(t *testing.T) {
	for _, tool := range []string{"sh", "awk", "tr", "stat", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	dir := t.TempDir()
	for name, body := range stubCommands {
		script := []byte("#!/bin/sh\n" + body + "\n")
		if err := os.WriteFile(filepath.Join(dir, name), script, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "docker.service"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	// The stand-in dockerd, whose /proc/PID/cmdline the script reads.
	dockerd := exec.Command("sleep", "60")
	if err := dockerd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dockerd.Process.Kill(); dockerd.Wait() })

	cmd := exec.Command("sh", "-c", gatherScript)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "STUB_DIR="+dir,
		"STUB_PID="+itoa(dockerd.Process.Pid))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gather script: %v", err)
	}
	p, err := parseProbes(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	checkStubState(t, stateOf(t, p), dir)
}

// checkStubState compares the state gathered with stubCommands with what they print.
func checkStubState(t *testing.T, s *State, dir string) {
	t.Helper()

	d := s.Daemon
	if want := []string{"sleep", "60"}; !reflect.DeepEqual(d.CommandLine, want) {
		t.Errorf("command line = %q, want %q", d.CommandLine, want)
	}
	if want := []string{"tcp://*:2375"}; !reflect.DeepEqual(d.TCPEndpoints, want) {
		t.Errorf("tcp_endpoints = %v, want %v from ss", d.TCPEndpoints, want)
	}
	if !d.AppArmor {
		t.Errorf("apparmor = false, want true from docker info")
	}
	if d.ICC {
		t.Errorf("icc = true, want false from the bridge network")
	}
	if d.LiveRestore {
		t.Errorf("live_restore = true, want false from docker info, whatever the file says")
	}
	if want := []string{"unix:///run/docker.sock"}; !reflect.DeepEqual(d.Hosts, want) {
		t.Errorf("hosts = %v, want %v from the file", d.Hosts, want)
	}

	if want := []string{"alice", "bob", "carol"}; !reflect.DeepEqual(s.DockerGroup.Members, want) {
		t.Errorf("docker group = %v, want %v", s.DockerGroup.Members, want)
	}
	if f := s.Files[FileDockerService]; f.Mode != "0640" || f.Path != dir+"/docker.service" {
		t.Errorf("files[docker_service] = %+v, want mode 0640 at %s", f, dir)
	}
	if f := s.Files[FileDockerSocketUnit]; f.Exists {
		t.Errorf("files[docker_socket_unit] = %+v, want absent", f)
	}

	if len(s.Containers) != 2 {
		t.Fatalf("containers = %+v, want db and web", s.Containers)
	}
	if db := s.Containers[0]; db.Name != "db" || !db.ReadOnlyRootfs {
		t.Errorf("containers[0] = %+v, want db with a read-only root filesystem", db)
	}
	web := s.Containers[1]
	if !web.Privileged || !reflect.DeepEqual(web.CapAdd, []string{"NET_ADMIN"}) {
		t.Errorf("containers[1] = %+v, want web, privileged, adding NET_ADMIN", web)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
