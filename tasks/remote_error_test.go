package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
	"github.com/fleetharden/fleetharden/transport/sshtest"
)

// lostHost returns a transport client whose SSH server dropped the connection, as a
// host that was killed would.
func lostHost(t *testing.T) *transport.Client {
	t.Helper()
	srv := sshtest.Start(t)
	keyFile, pub := sshtest.NewClientKey(t, nil)
	srv.Authorize(pub)
	knownHostsFile := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHostsFile, []byte(srv.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	knownHosts, err := transport.LoadKnownHosts(knownHostsFile, false)
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	client, err := transport.Dial(ctx, transport.Config{Name: "web1", Address: srv.Host(),
		Port: srv.Port(), User: "tester", IdentityFiles: []string{keyFile},
		HostKeys: knownHosts, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	srv.Close()
	return client
}

func TestScriptKindsOnLostHost(t *testing.T) {
	client := lostHost(t)
	tests := []struct {
		kind string
		args tasks.Args
		want string
	}{
		{"apt", tasks.Args{"update_cache": true, "lock_timeout": time.Minute}, "run apt-get: "},
		{"service", tasks.Args{"name": "docker", "state": "restarted", "timeout": time.Minute},
			"restart service docker: "},
		{"verify_containers", tasks.Args{}, "read the state of the Docker daemon: "},
		{"docker_facts", tasks.Args{}, "read the state of the Docker daemon: "},
		{"docker_daemon_config", tasks.Args{"settings": map[string]any{"icc": false}},
			"read the state of docker.service: "},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			kind, _ := tasks.Lookup(tt.kind)
			task, err := kind.New(tt.args)
			if err != nil {
				t.Fatal(err)
			}

			out := task.Run(context.Background(), &tasks.Env{Host: client, Undo: &tasktest.Undo{}})

			if out.Status != tasks.StatusFailed {
				t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
			}
			if !strings.HasPrefix(out.Message, tt.want) {
				t.Errorf("message = %q, want it to start with %q", out.Message, tt.want)
			}
			for _, script := range []string{"LC_ALL", "set -f", "\\n", "export"} {
				if strings.Contains(out.Message, script) {
					t.Errorf("message = %q, want no script text such as %q", out.Message, script)
				}
			}
			if !errors.Is(out.Err, transport.ErrUnreachable) {
				t.Errorf("Err = %v, want it to wrap transport.ErrUnreachable", out.Err)
			}
		})
	}
}

func TestCommandRunErrorNamesCommandOnce(t *testing.T) {
	client := lostHost(t)
	kind, _ := tasks.Lookup("command")
	task, err := kind.New(tasks.Args{"cmd": "docker ps", "stdout_max": 100})
	if err != nil {
		t.Fatal(err)
	}

	out := task.Run(context.Background(), &tasks.Env{Host: client})

	if want := `run "docker ps": host unreachable`; !strings.HasPrefix(out.Message, want) {
		t.Errorf("message = %q, want it to start with %q", out.Message, want)
	}
	if n := strings.Count(out.Message, "docker ps"); n != 1 {
		t.Errorf("message = %q names the command %d times, want once", out.Message, n)
	}
}

func TestAssertReadErrorNamesPathOnce(t *testing.T) {
	h := &failingReadHost{Host: tasktest.NewHost()}
	kind, _ := tasks.Lookup("assert")
	task, err := kind.New(tasks.Args{"file": "/etc/app.json",
		"that": []any{map[string]any{"path": "$.a", "exists": true}}})
	if err != nil {
		t.Fatal(err)
	}

	out := task.Run(context.Background(), &tasks.Env{Host: h})

	if want := "read /etc/app.json: is a directory"; out.Message != want {
		t.Errorf("message = %q, want %q", out.Message, want)
	}
	if !errors.Is(out.Err, syscall.EISDIR) {
		t.Errorf("Err = %v, want it to wrap EISDIR", out.Err)
	}
}

// failingReadHost fails every ReadFile the way transport.Client does for a directory.
type failingReadHost struct {
	*tasktest.Host
}

func (h *failingReadHost) ReadFile(ctx context.Context, path string) (*transport.File, error) {
	return nil, fmt.Errorf("read %s: %w", path, syscall.EISDIR)
}
