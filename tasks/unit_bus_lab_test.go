//go:build lab

package tasks

import (
	"errors"
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

// exitStderr returns the standard error that a failed command left in err, if any.
func exitStderr(err error) string {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(exit.Stderr)
	}
	return ""
}

// installTestUnit adds the unit fh-bus-test.service to the lab host container, with
// quoted Environment items and three environment files: a missing optional one, a
// regular one and a directory.
func installTestUnit(t *testing.T, c string) {
	t.Helper()
	unit := `[Service]
Environment="A=x y" B=2 "C=q\"uo" D=back\\slash E=$dollar F=é
EnvironmentFile=-/etc/default/fh-bus-test
EnvironmentFile=/etc/default/fh-bus-test2
EnvironmentFile=-/etc/default
ExecStart=/bin/sleep "1 2" $A ${B} \\x
ExecStart=/bin/true
Type=oneshot
`
	env := "A='from file'\n# comment\nG=back\\slash|pipe\n\nH=no newline at the end"
	labSh(t, c, `printf '%s' "$1" >/etc/systemd/system/fh-bus-test.service &&
		printf '%s' "$2" >/etc/default/fh-bus-test2 && systemctl daemon-reload`, unit, env)
	t.Cleanup(func() {
		labSh(t, c, `rm -f /etc/systemd/system/fh-bus-test.service /etc/default/fh-bus-test2 &&
			systemctl daemon-reload`)
	})
}

// TestLabUnitReadMatchesSystemctl reads units on a lab host with perlUnitProperties and
// with systemctl show, and checks that both parse the same.
func TestLabUnitReadMatchesSystemctl(t *testing.T) {
	c := labContainer(t)
	installTestUnit(t, c)

	for _, name := range []string{"docker.service", "docker", "fh-bus-test.service", "ssh",
		"no-such-unit.service", "9-odd@name:x.service", "odd.name"} {
		viaBus := labSh(t, c, `perl -e "$1" -- "$2"`, perlUnitProperties, name)
		parts := strings.Split(viaBus, perlPartEnd)
		if len(parts) != 5 || parts[4] != "" {
			t.Fatalf("%s: output %q, want four parts, each ended by %q", name, viaBus,
				perlPartEnd)
		}
		props, argv := parts[0], parts[1]
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
			want := labSh(t, c, `tr '\0' '\n' <"/proc/$1/cmdline"`, pid)
			if argv != want {
				t.Errorf("%s: argv %q, want %q", name, argv, want)
			}
		} else if argv != "" {
			t.Errorf("%s: argv %q without a main process", name, argv)
		}
	}
}

// TestLabUnitReadEscapesFallBack checks that the perl read fails for a unit
// whose Environment holds control characters, which systemctl escapes, and that the
// parser decodes systemctl's escapes.
func TestLabUnitReadEscapesFallBack(t *testing.T) {
	c := labContainer(t)
	unit := "[Service]\n" +
		`Environment="NOTE=first\nsecond" "K=a\x01b" "DOCKER_OPTS=--no-new-privileges"` + "\n" +
		"ExecStart=/bin/true $DOCKER_OPTS\nType=oneshot\n"
	labSh(t, c, `printf '%s' "$1" >/etc/systemd/system/fh-bus-escape.service &&
		systemctl daemon-reload`, unit)
	t.Cleanup(func() {
		labSh(t, c, `rm -f /etc/systemd/system/fh-bus-escape.service && systemctl daemon-reload`)
	})

	status := labSh(t, c, `perl -e "$1" -- fh-bus-escape >/dev/null; echo $?`, perlUnitProperties)
	if status != "1\n" {
		t.Errorf("perl read exited with %q, want 1", status)
	}
	props := parseUnitProperties(labSh(t, c, `systemctl show -p Environment fh-bus-escape`))
	want := map[string]string{"NOTE": "first\nsecond", "K": "a\x01b",
		"DOCKER_OPTS": "--no-new-privileges"}
	if !reflect.DeepEqual(props.env, want) {
		t.Errorf("Environment %q, want %q", props.env, want)
	}
}

// TestLabStateReadSameWithoutPerl runs the daemon state read of a unit with environment
// files, and of the account databases, twice: as it is, and with a perl that fails, so
// that systemctl, tr and copy_text do the reads. Both reports must agree.
func TestLabStateReadSameWithoutPerl(t *testing.T) {
	c := labContainer(t)
	installTestUnit(t, c)

	// The file has a NUL byte, a setgid mode and no newline at its end.
	labSh(t, c, `printf '{"a":\000"b\\\\n"}' >/etc/fh-bus-test.json && chmod 2640 /etc/fh-bus-test.json`)
	t.Cleanup(func() { labSh(t, c, `rm -f /etc/fh-bus-test.json`) })
	q := daemonStateQuery{unit: "fh-bus-test", file: "/etc/fh-bus-test.json",
		mounts: "/proc/mounts", accounts: true}
	withPerl := labSh(t, c, q.script())
	withoutPerl := labSh(t, c, `mkdir -p /root/fh-no-perl &&
		printf '#!/bin/sh\nexit 1\n' >/root/fh-no-perl/perl && chmod +x /root/fh-no-perl/perl &&
		PATH=/root/fh-no-perl:$PATH sh -c "$1"; status=$?; rm -r /root/fh-no-perl; exit $status`,
		q.script())

	parts := func(out string) (unitProperties, string, remoteReport) {
		sections := strings.SplitN(out, sectionMarker+"\n", 3)
		if len(sections) != 3 {
			t.Fatalf("report with %d sections, want 3: %q", len(sections), out)
		}
		return parseUnitProperties(sections[0]), sections[1], parseRemoteReport([]byte(sections[2]))
	}
	unitA, argvA, reportA := parts(withPerl)
	unitB, argvB, reportB := parts(withoutPerl)
	if !reflect.DeepEqual(unitA, unitB) {
		t.Errorf("unit with perl %+v, without %+v", unitA, unitB)
	}
	if argvA != argvB {
		t.Errorf("argv with perl %q, without %q", argvA, argvB)
	}
	fileA, fileB := parseDaemonState(reportA).file, parseDaemonState(reportB).file
	if fileA.content == nil || !reflect.DeepEqual(fileA.content, fileB.content) {
		t.Errorf("file with perl %+v, without %+v", fileA.content, fileB.content)
	}
	if reportA.fields["file_hex"] == "" {
		t.Errorf("no file_hex field with perl: %q", reportA.fields)
	}
	if !reflect.DeepEqual(reportA.sections, reportB.sections) {
		t.Errorf("sections with perl:\n%q\nwithout:\n%q", reportA.sections, reportB.sections)
	}
	for _, name := range []string{envFileSection + "/etc/default/fh-bus-test2",
		envFileMissingSection + "/etc/default/fh-bus-test", envFileOtherSection + "/etc/default",
		accountSectionPrefix + groupFile, accountSectionPrefix + passwdFile} {
		if _, ok := reportA.sections[name]; !ok {
			t.Errorf("no section %q with perl", name)
		}
		if _, ok := reportB.sections[name]; !ok {
			t.Errorf("no section %q without perl", name)
		}
	}
}

// TestLabUnitReadWithDockerGet runs perlUnitProperties with perlHTTPGet after it, as the
// daemon state read does, and checks that the containers' list follows the unit.
func TestLabUnitReadWithDockerGet(t *testing.T) {
	c := labContainer(t)
	out := labSh(t, c, `perl -e "$1" -e "$2" -- docker.service '' '' /var/run/docker.sock "$3" `+
		`--server /containers/json`, perlUnitProperties, perlHTTPGet, httpStatusMark)
	parts := strings.Split(out, perlPartEnd)
	if len(parts) != 5 {
		t.Fatalf("output %q, want four parts, each ended by %q, and the list", out, perlPartEnd)
	}
	rest := parts[4]
	if !strings.Contains(rest, httpStatusMark+"200\n"+serverHeaderMark+"Docker/") {
		t.Errorf("no containers' list with status 200 and dockerd's Server header after "+
			"the unit: %q", rest)
	}

	// A unit without a main process gets no request, which could start dockerd through
	// its socket before the state read looks for it.
	out = labSh(t, c, `perl -e "$1" -e "$2" -- no-such-unit '' '' /var/run/docker.sock "$3" `+
		`--server /containers/json`, perlUnitProperties, perlHTTPGet, httpStatusMark)
	if parts := strings.Split(out, perlPartEnd); len(parts) != 5 || parts[4] != "" {
		t.Errorf("output %q, want four parts and no request for a unit without a process", out)
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

// TestLabStateReadReplacedFile replaces the file while the perl that read it
// runs, and checks that the report holds the file that is at the path afterwards.
func TestLabStateReadReplacedFile(t *testing.T) {
	c := labContainer(t)
	labSh(t, c, `printf '{"old": 1}' >/etc/fh-bus-replace.json &&
		printf '{"new": 2}' >/etc/fh-bus-replace.new && mkdir -p /root/fh-replace &&
		printf '#!/bin/sh\n/usr/bin/perl "$@"; s=$?\nmv /etc/fh-bus-replace.new /etc/fh-bus-replace.json\nexit $s\n' \
			>/root/fh-replace/perl && chmod +x /root/fh-replace/perl`)
	t.Cleanup(func() {
		labSh(t, c, `rm -rf /root/fh-replace /etc/fh-bus-replace.json /etc/fh-bus-replace.new`)
	})

	q := daemonStateQuery{unit: "docker", file: "/etc/fh-bus-replace.json", mounts: "/proc/mounts"}
	out := labSh(t, c, `PATH=/root/fh-replace:$PATH sh -c "$1"`, q.script())
	sections := splitLineSections(out, 3)
	if len(sections) != 3 {
		t.Fatalf("report with %d sections, want 3: %q", len(sections), out)
	}
	file := parseDaemonState(parseRemoteReport([]byte(sections[2]))).file
	if file.content == nil || string(file.content.Data) != `{"new": 2}` {
		t.Errorf("file %+v, want the new content", file.content)
	}
}
