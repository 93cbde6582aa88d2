package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetharden/fleetharden/tasks"
	"github.com/fleetharden/fleetharden/tasks/tasktest"
	"github.com/fleetharden/fleetharden/transport"
)

func readFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// dockerHost returns a host whose daemon state script prints info, daemonJSON and argv
// as its sections, and whose container listing prints inspect.
func dockerHost(info, inspect, daemonJSON, argv string) *tasktest.Host {
	const marker = "--fleetharden-section--\n"
	h := tasktest.NewHost()
	h.Reply("# fleetharden: read the state of the Docker daemon", 0,
		info+marker+daemonJSON+marker+argv)
	h.Reply("# fleetharden: inspect the running containers", 0, inspect)
	return h
}

func newVerify(t *testing.T, args tasks.Args) tasks.Task {
	t.Helper()
	kind, ok := tasks.Lookup("verify_containers")
	if !ok {
		t.Fatal("kind verify_containers is not registered")
	}
	if !kind.ReadOnly {
		t.Error("verify_containers is not marked ReadOnly")
	}
	task, err := kind.New(args)
	if err != nil {
		t.Fatalf("New(%v): %v", args, err)
	}
	return task
}

func TestVerifyContainersFixtures(t *testing.T) {
	apparmor := readFixture(t, "docker_info_apparmor.json")
	noAppArmor := readFixture(t, "docker_info_no_apparmor.json")
	mixed := readFixture(t, "docker_inspect_mixed.json")
	hardened := readFixture(t, "docker_inspect_hardened.json")

	tests := []struct {
		name       string
		args       tasks.Args
		info       string
		inspect    string
		daemonJSON string
		argv       string
		status     tasks.Status
		message    string
		diff       []string
	}{
		{
			name: "mixed with defaults", info: apparmor, inspect: mixed,
			status: tasks.StatusFailed,
			message: "4 containers checked, 4 failed: " +
				"web (privileged, cap_add SYS_ADMIN,NET_BIND_SERVICE, apparmor unconfined), " +
				"api (cap_add NET_BIND_SERVICE), " +
				"worker (cap_add ALL, no no-new-privileges, seccomp unconfined, apparmor unconfined), " +
				"metrics (no no-new-privileges)",
			diff: []string{
				"web (id 3f2a1b9c0d1e, image registry.example.org/web:1.25): privileged,",
				"metrics (id 5d4c3b2a1908, image prom/node-exporter:v1.8.2): no no-new-privileges\n",
			},
		},
		{
			name: "daemon default covers containers without the option",
			args: tasks.Args{"allowed_capabilities": []string{"net_bind_service"}, "ignore": []string{"w*"}},
			info: apparmor, inspect: mixed, daemonJSON: `{"no-new-privileges": true}`,
			status:  tasks.StatusFailed,
			message: "2 containers checked (2 ignored), 1 failed: metrics (no no-new-privileges)",
		},
		{
			name: "daemon flag sets no-new-privileges",
			args: tasks.Args{"allowed_capabilities": []string{"CAP_NET_BIND_SERVICE"}, "ignore": []string{"web", "worker", "metrics"}},
			info: apparmor, inspect: mixed, argv: "/usr/bin/dockerd\n-H\nfd://\n--no-new-privileges\n",
			status: tasks.StatusOK, message: "1 container checked (3 ignored), all passed",
		},
		{
			name: "privileged allowed skips its AppArmor fault",
			args: tasks.Args{"allow_privileged": true, "allowed_capabilities": []string{"ALL"},
				"require_no_new_privileges": false, "ignore": []string{"worker"}},
			info: apparmor, inspect: mixed,
			status: tasks.StatusOK, message: "3 containers checked (1 ignored), all passed",
		},
		{
			name: "no AppArmor on the daemon",
			args: tasks.Args{"allowed_capabilities": []string{"ALL"}, "require_no_new_privileges": false,
				"require_seccomp": false, "ignore": []string{"web"}},
			info: noAppArmor, inspect: mixed,
			status: tasks.StatusOK, message: "3 containers checked (1 ignored), all passed",
		},
		{
			name: "daemon without seccomp",
			info: noAppArmor, inspect: hardened,
			args:    tasks.Args{"allowed_capabilities": []string{"NET_BIND_SERVICE"}, "require_no_new_privileges": false},
			status:  tasks.StatusFailed,
			message: "2 containers checked, 1 failed: daemon (seccomp disabled)",
			diff:    []string{"daemon: seccomp disabled\n"},
		},
		{
			name: "hardened containers",
			args: tasks.Args{"allowed_capabilities": []string{"NET_BIND_SERVICE"}},
			info: apparmor, inspect: hardened, daemonJSON: `{"no-new-privileges": true}`,
			status: tasks.StatusOK, message: "2 containers checked, all passed",
		},
		{
			name: "no running containers", info: apparmor,
			status: tasks.StatusOK, message: "no running containers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dockerHost(tt.info, tt.inspect, tt.daemonJSON, tt.argv)
			out := newVerify(t, tt.args).Run(context.Background(), &tasks.Env{Host: h, Undo: &tasktest.Undo{}})

			if out.Status != tt.status {
				t.Errorf("status = %s, want %s", out.Status, tt.status)
			}
			if out.Message != tt.message {
				t.Errorf("message =\n%q\nwant\n%q", out.Message, tt.message)
			}
			for _, d := range tt.diff {
				if !strings.Contains(out.Diff, d) {
					t.Errorf("diff %q does not contain %q", out.Diff, d)
				}
			}
			// The fixtures report running containers, so the task lists them.
			if len(h.Commands) != 2 {
				t.Errorf("ran %d commands, want two", len(h.Commands))
			}
			if len(h.Writes) != 0 {
				t.Errorf("wrote %v", h.Writes)
			}
		})
	}
}

func TestVerifyContainersDockerErrors(t *testing.T) {
	tests := []struct {
		name   string
		result transport.Result
		want   string
	}{
		{"docker missing", transport.Result{ExitCode: 127, Stderr: []byte("docker: command not found\n")},
			"docker: command not found: install Docker or remove this task"},
		{"daemon down", transport.Result{ExitCode: 1,
			Stderr: []byte("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n")},
			"read the state of the Docker daemon: exit status 1: Cannot connect to the Docker daemon"},
		{"server errors", transport.Result{Stdout: []byte(`{"ServerErrors":["permission denied"]}` + "\n--fleetharden-section--\n")},
			"docker info: permission denied"},
		{"garbage info", transport.Result{Stdout: []byte("not json\n--fleetharden-section--\n")},
			"parse docker info output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tasktest.NewHost()
			h.Handle("# fleetharden: read the state of the Docker daemon", func(string, []byte) transport.Result { return tt.result })

			out := newVerify(t, nil).Run(context.Background(), &tasks.Env{Host: h})

			if out.Status != tasks.StatusFailed {
				t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
			}
			if !strings.Contains(out.Message, tt.want) {
				t.Errorf("message = %q, want it to contain %q", out.Message, tt.want)
			}
		})
	}
}

func TestVerifyContainersGarbageInspect(t *testing.T) {
	h := dockerHost(`{"ContainersRunning":1}`, "not json\n", "", "")

	out := newVerify(t, nil).Run(context.Background(), &tasks.Env{Host: h})

	if out.Status != tasks.StatusFailed {
		t.Fatalf("status = %s (%s), want failed", out.Status, out.Message)
	}
	if !strings.Contains(out.Message, "parse docker inspect output") {
		t.Errorf("message = %q, want the inspect parse error", out.Message)
	}
}

func TestVerifyContainersListsPaused(t *testing.T) {
	// A paused container counts in Containers but not in ContainersRunning.
	h := dockerHost(`{"Containers":1,"ContainersRunning":0,"ContainersPaused":1}`,
		`[{"Id":"3f2a","Name":"/paused","HostConfig":{"CapAdd":["NET_ADMIN"]}}]`, "", "")

	out := newVerify(t, tasks.Args{"require_no_new_privileges": false,
		"require_seccomp": false}).Run(context.Background(), &tasks.Env{Host: h})

	if out.Status != tasks.StatusFailed || !strings.Contains(out.Message, "paused (cap_add NET_ADMIN)") {
		t.Errorf("outcome = %s %q, want the paused container flagged", out.Status, out.Message)
	}
}

func TestVerifyContainersCurlStatuses(t *testing.T) {
	const mark = "\n--fleetharden-http "
	tests := []struct {
		name, inspect, want string
	}{
		{"removed container skipped",
			`{"Id":"a1","Name":"/web","HostConfig":{"CapAdd":["SYS_ADMIN"]}}` + mark + "200\n" +
				`{"message":"No such container: b2"}` + mark + "404\n",
			"1 container checked, 1 failed: web (cap_add SYS_ADMIN)"},
		{"listed twice counted once",
			`{"Id":"a1","Name":"/web"}` + mark + "200\n" + `{"Id":"a1","Name":"/web"}` + mark + "200\n",
			"1 container checked, all passed"},
		{"daemon gone mid-inspect",
			`{"Id":"a1","Name":"/web"}` + mark + "200\n" + mark + "000\n",
			"parse docker inspect output: HTTP status 000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := dockerHost(`{"Containers":2}`, tt.inspect, "", "")
			args := tasks.Args{"require_no_new_privileges": false, "require_seccomp": false}

			out := newVerify(t, args).Run(context.Background(), &tasks.Env{Host: h})

			if !strings.Contains(out.Message, tt.want) {
				t.Errorf("message = %q, want it to contain %q", out.Message, tt.want)
			}
		})
	}
}

func TestVerifyContainersNoneRunningSkipsList(t *testing.T) {
	h := dockerHost(`{"Containers":0,"SecurityOptions":["name=seccomp,profile=default"]}`,
		"", "", "")

	out := newVerify(t, nil).Run(context.Background(), &tasks.Env{Host: h})

	if out.Status != tasks.StatusOK || out.Message != "no running containers" {
		t.Errorf("outcome = %s %q, want ok with no running containers", out.Status, out.Message)
	}
	if len(h.Commands) != 1 {
		t.Errorf("ran %d commands, want only the daemon state read: %q", len(h.Commands), h.Commands)
	}
}

func TestDockerFactsSharesReadWithVerify(t *testing.T) {
	h := dockerHost(readFixture(t, "docker_info_apparmor.json"),
		readFixture(t, "docker_inspect_hardened.json"), `{"no-new-privileges": true}`, "")
	kind, ok := tasks.Lookup("docker_facts")
	if !ok {
		t.Fatal("kind docker_facts is not registered")
	}
	facts, err := kind.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	env := &tasks.Env{Host: h, Memo: tasks.NewMemo()}

	out := facts.Run(context.Background(), env)

	if out.Status != tasks.StatusOK {
		t.Fatalf("docker_facts: %s %q", out.Status, out.Message)
	}
	if got := out.Facts["docker_version"]; got != "20.10.24+dfsg1" {
		t.Errorf("docker_version = %v, want 20.10.24+dfsg1", got)
	}
	if got := out.Facts["docker_storage_driver"]; got != "overlay2" {
		t.Errorf("docker_storage_driver = %v, want overlay2", got)
	}
	verify := newVerify(t, tasks.Args{"allowed_capabilities": []string{"NET_BIND_SERVICE"}})
	if out := verify.Run(context.Background(), env); out.Status != tasks.StatusOK {
		t.Errorf("verify_containers: %s %q", out.Status, out.Message)
	}
	if len(h.Commands) != 2 {
		t.Errorf("ran %d commands, want one state read and one listing", len(h.Commands))
	}

	env.Memo.Forget()
	facts.Run(context.Background(), env)
	if len(h.Commands) != 3 {
		t.Errorf("ran %d commands, want the state read again after Forget", len(h.Commands))
	}
}

func TestDockerFactsWithoutVersion(t *testing.T) {
	h := dockerHost(`{}`, "", "", "")
	kind, _ := tasks.Lookup("docker_facts")
	task, err := kind.New(nil)
	if err != nil {
		t.Fatal(err)
	}

	out := task.Run(context.Background(), &tasks.Env{Host: h})

	if out.Status != tasks.StatusFailed || !strings.Contains(out.Message, "no server version") {
		t.Errorf("outcome = %s %q, want failed for a missing version", out.Status, out.Message)
	}
}

func TestVerifyContainersNewRejects(t *testing.T) {
	kind, _ := tasks.Lookup("verify_containers")
	tests := []struct {
		name string
		args tasks.Args
		want string
	}{
		{"bad capability", tasks.Args{"allowed_capabilities": []string{"sys admin"}}, `invalid capability "sys admin"`},
		{"bad glob", tasks.Args{"ignore": []string{"web["}}, `invalid glob "web["`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kind.New(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
