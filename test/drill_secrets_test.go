//go:build lab

package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretsPlaybook changes daemon.json, keeps the hosts busy while the drill watches the
// process lists, then fails, so the run also writes journals and rolls back.
const secretsPlaybook = `name: secrets
tasks:
  - name: Set no-new-privileges
    docker_daemon_config:
      settings: {no-new-privileges: true}
  - name: Wait
    command: {cmd: sleep 4}
  - name: Fail
    command: {cmd: "false"}
`

// secretPattern is where the drill keeps the secrets on each host, one a line, so grep
// can search for them without a command line that contains them.
const secretPattern = "/run/fh-drill-secrets"

func TestDrillSecretsNeverLeak(t *testing.T) {
	lab := openE2ELab(t)
	seedDrillDaemonJSON(t, lab)
	password := "fh-drill-sudo-" + randomHex(t)
	passphrase := "fh-drill-key-" + randomHex(t)
	secrets := []string{password, passphrase}
	setFleetpwPassword(t, lab, password)
	key := authorizeEncryptedKey(t, lab, passphrase)
	for _, host := range lab.names {
		lab.drillStdin(t, host, password+"\n"+passphrase+"\n", "cat > "+secretPattern)
	}
	t.Cleanup(func() { lab.each(t, "rm -f "+secretPattern) })

	inv := inventoryWithUser(t, lab, "fleetpw")
	inv = writeDrillFile(t, "inventory.yaml",
		regexp.MustCompile(`key: .*`).ReplaceAllString(readFileString(t, inv), "key: "+key))
	results := filepath.Join(t.TempDir(), "results.json")
	run := startOnTerminal(t, lab, passphrase, "run", "-i", inv,
		writeDrillPlaybook(t, secretsPlaybook), "--no-agent", "--log-level", "debug",
		"--become-pass-file", writeSecretFile(t, password), "--json", results)
	leaks := watchProcesses(t, lab, secrets, run.done)
	transcript := run.wait(t)

	for _, leak := range <-leaks {
		t.Errorf("secret in a process while the run went on: %s", leak)
	}
	if !strings.Contains(transcript, "Passphrase for "+key) {
		t.Errorf("fleetharden did not ask for the key's passphrase:\n%s", transcript)
	}
	checkNoSecret(t, "the terminal output and log", transcript, secrets)
	checkNoSecret(t, "the results", readFileString(t, results), secrets)
	if !strings.Contains(readFileString(t, results), `"rolled_back"`) {
		t.Errorf("no host was rolled back, so the drill missed the rollback's journal writes")
	}
	checkStateDirClean(t, lab.state, secrets)
	for _, host := range lab.names {
		checkHostClean(t, lab, host)
		checkRootOnlyFiles(t, lab, host)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// drillStdin runs a shell script as root in a host's container with stdin as its input,
// so secrets never show on a command line.
func (l *e2eLab) drillStdin(t *testing.T, host, stdin, script string) {
	t.Helper()
	cmd := exec.Command("docker", "exec", "-i", l.drillContainer(t, host), "sh", "-c", script)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %s: %v: %s", host, script, err, out)
	}
}

// setFleetpwPassword gives fleetpw the password on every host, and the lab's own password
// back at the end of the test.
func setFleetpwPassword(t *testing.T, lab *e2eLab, password string) {
	t.Helper()
	for _, host := range lab.names {
		lab.drillStdin(t, host, "fleetpw:"+password+"\n", "chpasswd")
	}
	labPassword := readFileString(t, filepath.Join(lab.dir, "become-pass"))
	t.Cleanup(func() {
		for _, host := range lab.names {
			lab.drillStdin(t, host, "fleetpw:"+labPassword+"\n", "chpasswd")
		}
	})
}

// authorizeEncryptedKey makes a key encrypted with passphrase, lets fleetpw log in with it
// on every host until the end of the test, and returns its file.
func authorizeEncryptedKey(t *testing.T, lab *e2eLab, passphrase string) string {
	t.Helper()
	key := filepath.Join(t.TempDir(), "id_ed25519")
	// ssh-keygen takes the passphrase on its command line. It ends before the watch of the
	// process lists starts, so the watch does not report it.
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase,
		"-C", "fleetharden-drill", "-f", key).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub := readFileString(t, key+".pub")
	keys := "/home/fleetpw/.ssh/authorized_keys"
	for _, host := range lab.names {
		lab.drillStdin(t, host, pub, "cat >> "+keys)
	}
	t.Cleanup(func() {
		lab.each(t, "sed -i '/ fleetharden-drill$/d' "+keys)
	})
	return key
}

// terminalRun is fleetharden running on a pseudo-terminal, which script(1) provides, so
// it can ask for a key's passphrase.
type terminalRun struct {
	cmd    *exec.Cmd
	output bytes.Buffer
	mu     sync.Mutex
	done   chan struct{}
}

// startOnTerminal starts fleetharden under script(1) with the lab's known_hosts, and types
// the passphrase when fleetharden asks for it.
func startOnTerminal(t *testing.T, lab *e2eLab, passphrase string, args ...string) *terminalRun {
	t.Helper()
	bin, err := fleethardenOnce()
	if err != nil {
		t.Fatal(err)
	}
	line := shellQuote(bin)
	for _, a := range append(args, "--known-hosts", filepath.Join(lab.dir, "known_hosts")) {
		line += " " + shellQuote(a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), drillTimeout)
	t.Cleanup(cancel)
	r := &terminalRun{done: make(chan struct{})}
	r.cmd = exec.CommandContext(ctx, "script", "-qefc", line, "/dev/null")
	r.cmd.Env = append(os.Environ(), "FLEETHARDEN_STATE_DIR="+lab.state)
	stdin, err := r.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start script: %v", err)
	}
	go r.answer(stdout, stdin, passphrase)
	return r
}

// answer copies the terminal output and types the passphrase once the prompt shows.
func (r *terminalRun) answer(stdout io.Reader, stdin io.WriteCloser, passphrase string) {
	defer close(r.done)
	reader := bufio.NewReader(stdout)
	asked := false
	for {
		b, err := reader.ReadByte()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.output.WriteByte(b)
		prompted := !asked && strings.Contains(r.output.String(), "Passphrase for ") && b == ' '
		r.mu.Unlock()
		if prompted {
			asked = true
			// The prompt is printed before echo is turned off, so typing at once, faster
			// than a person, could be echoed.
			time.Sleep(300 * time.Millisecond)
			io.WriteString(stdin, passphrase+"\n")
		}
	}
}

// wait waits for the run to end and returns what it wrote to the terminal.
func (r *terminalRun) wait(t *testing.T) string {
	t.Helper()
	<-r.done
	err := r.cmd.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Logf("fleetharden on a terminal: %v\n%s", err, r.output.String())
	return r.output.String()
}

// watchProcesses searches the command lines and environments of every process on this
// machine and on the lab hosts for the secrets, every 200 ms until done is closed, and
// then sends what it found.
func watchProcesses(t *testing.T, lab *e2eLab, secrets []string,
	done <-chan struct{}) <-chan []string {
	found := make(chan []string, 1)
	containers := map[string]string{}
	for _, host := range lab.names {
		containers[host] = lab.drillContainer(t, host)
	}
	go func() {
		var leaks []string
		for {
			leaks = append(leaks, localProcessLeaks(secrets)...)
			for host, container := range containers {
				out, _ := tryDrillDocker("exec", container, "sh", "-c", "grep -alF -f "+
					secretPattern+" /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null; true")
				for _, file := range strings.Fields(out) {
					leaks = append(leaks, host+": "+file)
				}
			}
			select {
			case <-done:
				found <- leaks
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return found
}

// localProcessLeaks returns the /proc files of this machine's processes whose command
// line or environment contains a secret.
func localProcessLeaks(secrets []string) []string {
	var leaks []string
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	environs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, file := range append(files, environs...) {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				leaks = append(leaks, "this machine: "+file)
			}
		}
	}
	return leaks
}

func checkNoSecret(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret appears in %s", where)
		}
	}
}

// checkStateDirClean checks every file that the runs kept on this machine.
func checkStateDirClean(t *testing.T, dir string, secrets []string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		checkNoSecret(t, path, readFileString(t, path), secrets)
		return nil
	})
	if err != nil || n == 0 {
		t.Errorf("walk %s: %d files, %v: want the run's records", dir, n, err)
	}
}

// checkHostClean searches a host's journals, logs and system journal for the secrets.
func checkHostClean(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	out := lab.ssh(t, host, "grep -rlF -f "+secretPattern+" /var/lib/fleetharden /var/log "+
		"2>/dev/null; journalctl --no-pager -o cat | grep -cF -f "+secretPattern+"; true")
	if strings.TrimSpace(out) != "0" {
		t.Errorf("%s: secrets in files or the system journal:\n%s", host, out)
	}
}

// checkRootOnlyFiles checks that the journals, backups and lock files fleetharden leaves
// on a host are owned by root and readable by root only.
func checkRootOnlyFiles(t *testing.T, lab *e2eLab, host string) {
	t.Helper()
	out := lab.ssh(t, host, "find /var/lib/fleetharden /run/fleetharden.lock "+
		"/run/fleetharden.lock.owner -printf '%m %u:%g %y %p\\n'")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 5 {
		t.Errorf("%s: found only %q, want journals, backups and lock files", host, out)
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "600 root:root f ") && !strings.HasPrefix(line, "700 root:root d ") {
			t.Errorf("%s: %s, want mode 600 for files and 700 for directories, owned by root",
				host, line)
		}
	}
}
