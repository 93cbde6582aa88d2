//go:build lab

package tasks

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// labContainer returns the name of the first container of the lab whose state directory
// FLEETHARDEN_LAB names, or skips the test when it is not set.
func labContainer(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FLEETHARDEN_LAB")
	if dir == "" {
		t.Skip("FLEETHARDEN_LAB is not set; it names the state directory of a running lab")
	}
	list, err := os.ReadFile(filepath.Join(dir, "containers"))
	if err != nil {
		t.Fatalf("read the lab's containers: %v", err)
	}
	fields := strings.Fields(string(list))
	if len(fields) == 0 {
		t.Fatalf("%s lists no container", filepath.Join(dir, "containers"))
	}
	return fields[0]
}

// labSh runs script with sh as root on the lab host container and returns its standard
// output.
func labSh(t *testing.T, container, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"exec", container, "sh", "-c", script, "sh"},
		args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("on %s: %s: %v: %s", container, script, err, exitStderr(err))
	}
	return string(out)
}

func exitStderr(err error) string {
	if exit, ok := err.(*exec.ExitError); ok {
		return string(exit.Stderr)
	}
	return ""
}

// TestLabUnitReadMatchesSystemctl reads units on a lab host with perlUnitProperties
// and with systemctl show, and checks that both parse the same.
func TestLabUnitReadMatchesSystemctl(t *testing.T) {
	c := labContainer(t)
	unit := `[Service]
Environment="A=x y" B=2 "C=q\"uo" D=back\\slash E=$dollar F=é
EnvironmentFile=-/etc/default/fh-bus-test
EnvironmentFile=/etc/default/fh-bus-test2
ExecStart=/bin/sleep "1 2" $A ${B} \\x
ExecStart=/bin/true
Type=oneshot
`
	labSh(t, c, `printf '%s' "$1" >/etc/systemd/system/fh-bus-test.service && systemctl daemon-reload`,
		unit)
	t.Cleanup(func() {
		labSh(t, c, `rm -f /etc/systemd/system/fh-bus-test.service && systemctl daemon-reload`)
	})

	for _, name := range []string{"docker.service", "docker", "fh-bus-test.service", "ssh",
		"no-such-unit.service", "9-odd@name:x.service", "odd.name"} {
		viaBus := labSh(t, c, `perl -e "$1" -- "$2"`, perlUnitProperties, name)
		props, rest, ok := strings.Cut(viaBus, unitEndMark+"\n")
		if !ok {
			t.Fatalf("%s: no unit end mark in %q", name, viaBus)
		}
		viaSystemctl := labSh(t, c, `systemctl show -p ExecStart -p EnvironmentFiles `+
			`-p Environment -p LoadState -p MainPID -- "$1"`, name)
		got, want := parseUnitProperties(props), parseUnitProperties(viaSystemctl)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: perl read\n%s\nparses as %+v,\nsystemctl show\n%s\nas %+v",
				name, props, got, viaSystemctl, want)
		}
		if pid := mainPID(viaSystemctl); pid != mainPID(props) {
			t.Errorf("%s: MainPID %q by perl, %q by systemctl", name, mainPID(props), pid)
		} else if pid != "0" {
			argv := labSh(t, c, `tr '\0' '\n' <"/proc/$1/cmdline"`, pid)
			if rest != argv+argvEndMark+"\n" {
				t.Errorf("%s: argv section %q, want %q", name, rest, argv+argvEndMark+"\n")
			}
		} else if rest != "" {
			t.Errorf("%s: output after the unit without a main process: %q", name, rest)
		}
	}
}

// TestLabUnitReadWithDockerGet runs perlUnitProperties with perlHTTPGet after it, as the
// daemon state read does, and checks that the containers' list follows the unit.
func TestLabUnitReadWithDockerGet(t *testing.T) {
	c := labContainer(t)
	out := labSh(t, c, `perl -e "$1" -e "$2" -- docker.service /var/run/docker.sock "$3" `+
		`--server /containers/json`, perlUnitProperties, perlHTTPGet, httpStatusMark)
	_, rest, ok := strings.Cut(out, argvEndMark+"\n")
	if !ok {
		t.Fatalf("no argv of dockerd in %q", out)
	}
	if !strings.Contains(rest, httpStatusMark+"200\n"+serverHeaderMark+"Docker/") {
		t.Errorf("no containers' list with status 200 and dockerd's Server header after "+
			"the unit: %q", rest)
	}
}

func mainPID(props string) string {
	for _, line := range strings.Split(props, "\n") {
		if pid, ok := strings.CutPrefix(line, "MainPID="); ok {
			return pid
		}
	}
	return ""
}
