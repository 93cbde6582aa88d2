package tasks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/transport"
)

// shellHost runs commands with the local /bin/sh and PATH set to path, and maps file
// paths under root.
type shellHost struct {
	path, root string
}

var _ Host = (*shellHost)(nil)

func (h *shellHost) Run(ctx context.Context, cmd string, stdin []byte) (transport.Result, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = []string{"PATH=" + h.path, "LC_ALL=C"}
	c.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = nil
	}
	return transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: c.ProcessState.ExitCode()}, err
}

func (h *shellHost) ReadFile(ctx context.Context, path string) (*transport.File, error) {
	data, err := os.ReadFile(filepath.Join(h.root, path))
	if err != nil {
		return nil, err
	}
	return &transport.File{Data: data}, nil
}

func (h *shellHost) WriteFile(ctx context.Context, path string, data []byte, meta transport.FileMeta) error {
	return errors.New("shellHost: read only")
}

func (h *shellHost) Remove(ctx context.Context, path string) error {
	return errors.New("shellHost: read only")
}

// newShellHost returns a host whose PATH starts with the given fake commands, so they
// shadow any real docker, systemctl or pidof of the machine running the test.
func newShellHost(t *testing.T, commands map[string]string) *shellHost {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	bin := t.TempDir()
	h := &shellHost{path: bin + ":/usr/bin:/bin", root: t.TempDir()}
	for name, body := range commands {
		script := "#!/bin/sh\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func TestVerifyScriptWithFakeDocker(t *testing.T) {
	fixtures, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	h := newShellHost(t, map[string]string{
		"pidof": "exit 1",
		"docker": `case "$1" in
info) cat ` + fixtures + `/docker_info_apparmor.json ;;
ps) printf '3f2a1b9c0d1e\n8e7d6c5b4a39\n' ;;
inspect) [ "$#" -eq 3 ] || { echo "want 2 ids, got $*" >&2; exit 2; }
         cat ` + fixtures + `/docker_inspect_mixed.json ;;
esac`,
	})
	task := &verifyContainersTask{allowedCaps: map[string]bool{"ALL": true}, allowPrivileged: true}

	out := task.Run(context.Background(), &Env{Host: h})

	if out.Status != StatusOK || out.Message != "4 containers checked, all passed" {
		t.Errorf("outcome = %s %q", out.Status, out.Message)
	}
}

func TestVerifyScriptWithoutDocker(t *testing.T) {
	h := newShellHost(t, nil)
	h.path = t.TempDir() // an empty PATH directory, so that no installed docker is found

	out := (&verifyContainersTask{}).Run(context.Background(), &Env{Host: h})

	if out.Status != StatusFailed || !strings.Contains(out.Message, "docker: command not found") {
		t.Errorf("outcome = %s %q", out.Status, out.Message)
	}
}

func TestDaemonCommandLineScriptWithFakeSystemctl(t *testing.T) {
	h := newShellHost(t, map[string]string{
		"pidof": "exit 1",
		"systemctl": `[ "$*" = "show -p ExecStart -p EnvironmentFiles -p Environment -- docker" ] || exit 1
echo 'ExecStart={ path=/usr/sbin/dockerd ; argv[]=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS ; ignore_errors=no }'
echo 'EnvironmentFiles=/etc/default/docker (ignore_errors=yes)'
echo 'Environment='`,
	})
	dir := filepath.Join(h.root, "etc", "default")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := "# Options\nDOCKER_OPTS=\"--log-level=warn -D\"\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(opts), 0o644); err != nil {
		t.Fatal(err)
	}

	cl, err := readDaemonCommandLine(context.Background(), h, "docker")

	if err != nil {
		t.Fatal(err)
	}
	if cl.Source != "unit docker" {
		t.Errorf("source = %q", cl.Source)
	}
	if got := flagTexts(cl.Flags); got != "-H fd:// --log-level=warn -D" {
		t.Errorf("flags = %q", got)
	}
}
