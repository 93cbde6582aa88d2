//go:build lab

package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lightHostScript turns the namespaces that unshare made into a light host, then runs
// sshd in them. Its arguments are the fleet's directory, the directory the playbook
// writes, and the port. tmpfs mounts give each host its own playbook directory, /run (the
// host lock) and /var/lib (the run journal), so the real ones are never written.
//
// The hosts log in as root, not as a plain user, because docker_daemon_config makes
// daemon.json owned by root, which only root can do without sudo. A copy of /etc/passwd
// gives root /bin/sh and no profile, so a command costs what it costs a plain user.
const lightHostScript = `set -e
mount --bind "$1/passwd" /etc/passwd
mount --bind "$1/shadow" /etc/shadow
mount -t tmpfs -o size=1m,mode=0755 fleetharden-drill "$2"
mount -t tmpfs -o size=1m,mode=0755 fleetharden-drill /run
mkdir -m 0755 /run/sshd
mount -t tmpfs -o size=4m,mode=0755 fleetharden-drill /var/lib
printf '{\n  "debug": false\n}\n' > "$2/daemon.json"
chmod 0640 "$2/daemon.json"
exec /usr/sbin/sshd -D -e -f "$1/sshd_config" -p "$3"
`

// lightSSHDConfig is the sshd_config of the light hosts, with %[1]s for the fleet's
// directory.
const lightSSHDConfig = `ListenAddress 127.0.0.1
HostKey %[1]s/host_key
AuthorizedKeysFile %[1]s/id_ed25519.pub
AllowUsers root
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
MaxStartups 200
LogLevel ERROR
Subsystem sftp /usr/lib/openssh/sftp-server
`

// lightFleet is a fleet of light hosts on this machine: sshd processes on 127.0.0.1
// ports, each in its own mount and PID namespace, plus hosts that cannot be reached.
type lightFleet struct {
	dir        string
	confDir    string               // the directory that each light host has its own tmpfs over
	hosts      map[string]*exec.Cmd // light host name -> its unshare process
	ports      map[string]int       // every host name -> port
	dead       map[string]string    // unreachable host name -> why
	knownHosts string
}

// startLightFleet starts n light hosts, closed closed ports and silent silent listeners
// that accept TCP connections and never send a byte. It skips the test where light hosts
// cannot run, because they need root for unshare and mount, and OpenSSH's sshd.
func startLightFleet(t *testing.T, n, closed, silent int) *lightFleet {
	t.Helper()
	for _, tool := range []string{"/usr/sbin/sshd", "/usr/lib/openssh/sftp-server"} {
		if _, err := os.Stat(tool); err != nil {
			t.Skipf("light hosts need %s: %v", tool, err)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("light hosts need root for unshare and mount")
	}

	f := &lightFleet{dir: t.TempDir(), confDir: t.TempDir(), hosts: map[string]*exec.Cmd{},
		ports: map[string]int{}, dead: map[string]string{}}
	f.writeFiles(t)
	for i := 1; i <= n; i++ {
		f.startHost(t, fmt.Sprintf("light%03d", i))
	}
	for i := 1; i <= closed; i++ {
		name := fmt.Sprintf("closed%02d", i)
		f.ports[name], f.dead[name] = f.freePort(t), "connection refused"
	}
	for i := 1; i <= silent; i++ {
		name := fmt.Sprintf("silent%02d", i)
		f.ports[name], f.dead[name] = silentListener(t), "timed out"
	}
	f.waitForBanners(t)
	f.writeKnownHosts(t)
	return f
}

// writeFiles writes the keys, sshd_config and the passwd and shadow copies of the fleet.
func (f *lightFleet) writeFiles(t *testing.T) {
	t.Helper()
	for _, key := range []string{"host_key", "id_ed25519"} {
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "",
			"-f", filepath.Join(f.dir, key)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	files := map[string]string{
		"sshd_config": fmt.Sprintf(lightSSHDConfig, f.dir),
		"passwd":      "root:x:0:0:root:/:/bin/sh\nsshd:x:65534:65534::/run/sshd:/usr/sbin/nologin\n",
		"shadow":      "root:*:19000:0:99999:7:::\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startHost starts one light host and stops it at the end of the test.
func (f *lightFleet) startHost(t *testing.T, name string) {
	t.Helper()
	port := f.freePort(t)
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork",
		"--mount-proc", "--kill-child", "sh", "-c", lightHostScript, "sh", f.dir, f.confDir,
		strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start light host %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	f.hosts[name], f.ports[name] = cmd, port
}

// freePort returns a 127.0.0.1 port that nothing listened on a moment ago and that no
// host of the fleet has. The kernel may hand out a port again once its listener is closed,
// before the sshd meant for it has bound it.
func (f *lightFleet) freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !slices.Contains(slices.Collect(maps.Values(f.ports)), port) {
			return port
		}
	}
}

// silentListener accepts TCP connections on a 127.0.0.1 port and holds them without
// sending anything, as a host whose sshd hangs does, until the end of the test.
func silentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// waitForBanners waits until every light host's sshd sends its SSH banner.
func (f *lightFleet) waitForBanners(t *testing.T) {
	t.Helper()
	for name := range f.hosts {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(f.ports[name]))
		drillWait(t, 60*time.Second, name+" sshd on "+addr, func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				return false
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			return strings.HasPrefix(line, "SSH-2.0-")
		})
	}
}

// writeKnownHosts records the fleet's host key for every port, unreachable ones included,
// so no host fails for an unknown key.
func (f *lightFleet) writeKnownHosts(t *testing.T) {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(f.dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(pub))
	var b strings.Builder
	for _, port := range f.ports {
		fmt.Fprintf(&b, "[127.0.0.1]:%d %s %s\n", port, fields[0], fields[1])
	}
	f.knownHosts = filepath.Join(f.dir, "known_hosts")
	if err := os.WriteFile(f.knownHosts, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeInventory writes the fleet's inventory, in which every host logs in as root with
// the fleet's key.
func (f *lightFleet) writeInventory(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "user: root\nkey: %s\ngroups:\n  fleet:\n    hosts:\n",
		filepath.Join(f.dir, "id_ed25519"))
	for name, port := range f.ports {
		fmt.Fprintf(&b, "      %s: {address: 127.0.0.1, port: %d}\n", name, port)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// inHost runs a shell script in a light host's mount namespace and returns its output.
func (f *lightFleet) inHost(t *testing.T, name, script string) string {
	t.Helper()
	unsharePID := f.hosts[name].Process.Pid
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", unsharePID, unsharePID))
	if err != nil || len(strings.Fields(string(children))) != 1 {
		t.Fatalf("%s: find sshd under unshare %d: %q, %v", name, unsharePID, children, err)
	}
	out, err := exec.Command("nsenter", "--target", strings.TrimSpace(string(children)),
		"--mount", "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %s: %v: %s", name, script, err, out)
	}
	return string(out)
}

// lightPlaybook sets daemon.json in the light hosts' own directory, %s.
const lightPlaybook = `name: light fleet
tasks:
  - name: Harden the daemon configuration
    docker_daemon_config:
      path: %s/daemon.json
      settings:
        no-new-privileges: true
        log-driver: json-file
        log-opts: {max-size: 10m, max-file: "3"}
`

func TestDrillFleetWithUnreachableTenth(t *testing.T) {
	fleet := startLightFleet(t, 90, 5, 5)
	inv := fleet.writeInventory(t)
	pb := writeDrillPlaybook(t, fmt.Sprintf(lightPlaybook, fleet.confDir))
	args := []string{"run", "-i", inv, pb, "--known-hosts", fleet.knownHosts,
		"--connect-timeout", "5s", "--forks", "100"}

	first := startDrill(t, t.TempDir(), args...).wait(t)

	if first.exitCode != 4 {
		t.Errorf("exit status = %d, want 4 (hosts unreachable, none failed)", first.exitCode)
	}
	if first.elapsed > 2*time.Minute {
		t.Errorf("run took %v, want it to end within 2 minutes", first.elapsed)
	}
	want := map[string]int{"hosts": 100, "changed": 90, "unreachable": 10}
	for key, n := range want {
		if first.results.Summary[key] != n {
			t.Errorf("summary %s = %d, want %d (summary %v)", key, first.results.Summary[key],
				n, first.results.Summary)
		}
	}
	for name, cause := range fleet.dead {
		checkBrokenHostResult(t, first, name, "unreachable", "connect "+name, cause)
	}
	written := checkLightHosts(t, fleet, first)

	second := startDrill(t, t.TempDir(), args...).wait(t)

	if second.results.Summary["ok"] != 90 || second.results.Summary["unreachable"] != 10 {
		t.Errorf("second run summary = %v, want 90 ok and 10 unreachable", second.results.Summary)
	}
	for name := range fleet.hosts {
		if got := lightFileState(t, fleet, name); got != written {
			t.Errorf("%s: daemon.json after the second run is %q, want %q", name, got, written)
		}
	}
}

// checkLightHosts checks that every light host ended the first run changed, with the
// same daemon.json as the others, whole and root-owned with mode 0644, no temporary file,
// and a journal and lock owner file readable by root only. It returns the daemon.json's
// state.
func checkLightHosts(t *testing.T, fleet *lightFleet, r drillRun) string {
	t.Helper()
	written := ""
	for name := range fleet.hosts {
		if h := r.host(t, name); h.Status != "changed" {
			t.Errorf("%s: status = %s (%s), want changed", name, h.Status, h.Message)
		}
		got := lightFileState(t, fleet, name)
		if written == "" {
			written = got
			checkLightDaemonJSON(t, fleet, name)
		}
		if got != written || !strings.HasPrefix(got, "644 root:root ") {
			t.Errorf("%s: daemon.json is %q, want root-owned, mode 644 and as on the "+
				"others: %q", name, got, written)
		}
		temps := fleet.inHost(t, name, "find "+shellQuote(fleet.confDir)+
			" /var/lib/fleetharden -name '.*.fleetharden-*'")
		if temps != "" {
			t.Errorf("%s: temporary files left:\n%s", name, temps)
		}
		modes := fleet.inHost(t, name, "find /var/lib/fleetharden /run/fleetharden.lock.owner "+
			"-printf '%m %u %p\\n' | grep -v '^[67]00 root ' || true")
		if modes != "" {
			t.Errorf("%s: files readable by others than root:\n%s", name, modes)
		}
	}
	return written
}

// lightFileState returns "MODE OWNER:GROUP SHA256" of a light host's daemon.json.
func lightFileState(t *testing.T, fleet *lightFleet, name string) string {
	t.Helper()
	path := shellQuote(filepath.Join(fleet.confDir, "daemon.json"))
	out := fleet.inHost(t, name, "stat -c '%a %U:%G' "+path+" | tr '\\n' ' '; "+
		"sha256sum < "+path+" | cut -d' ' -f1")
	return strings.TrimSpace(out)
}

// checkLightDaemonJSON checks that a light host's daemon.json holds the original key and
// the playbook's settings.
func checkLightDaemonJSON(t *testing.T, fleet *lightFleet, name string) {
	t.Helper()
	var cfg map[string]any
	data := fleet.inHost(t, name, "cat "+shellQuote(filepath.Join(fleet.confDir, "daemon.json")))
	if err := json.Unmarshal([]byte(data), &cfg); err != nil {
		t.Fatalf("%s: daemon.json is not whole JSON: %v\n%s", name, err, data)
	}
	if cfg["debug"] != false || cfg["no-new-privileges"] != true ||
		cfg["log-driver"] != "json-file" {
		t.Errorf("%s: daemon.json = %s, want debug kept and the playbook's settings", name, data)
	}
}
