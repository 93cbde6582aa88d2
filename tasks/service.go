package tasks

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dockerHealthCmd checks that the Docker daemon serves API requests on its local socket.
// It is the health command of the services docker and docker.service unless the playbook
// sets one.
const dockerHealthCmd = "docker -H unix:///var/run/docker.sock info --format '{{.ServerVersion}}'"

// serviceNameRE accepts unit names such as docker, docker.service and getty@tty1.service. The
// first character may not be '-' or '.', so a name never reads as an option or a relative
// path, and 256 bytes is systemd's limit for unit names.
var serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,255}$`)

// serviceStates maps each state a playbook may request to the action that reaches it
// and the past tense used in messages.
var serviceStates = map[string]struct{ action, done string }{
	"restarted": {"restart", "restarted"},
	"reloaded":  {"reload", "reloaded"},
	"started":   {"start", "started"},
}

func init() {
	Register(&Kind{
		Name: "service",
		Doc: "Restart, reload or start a service and wait until it is healthy; " +
			"usually run as a handler.",
		Params: []Param{
			{Name: "name", Type: TypeString, Required: true,
				Doc: "unit name, such as docker or docker.service"},
			{Name: "state", Type: TypeString, Default: "restarted",
				Doc: "restarted, reloaded, or started (started only if not active)"},
			{Name: "timeout", Type: TypeDuration, Default: 60 * time.Second,
				Doc: "how long the service has to become healthy"},
			{Name: "health_cmd", Type: TypeString, Shell: true,
				Doc: "shell command that exits 0 when the service is healthy; " +
					"for docker it defaults to running docker info on the local socket"},
		},
		New: newServiceTask,
	})
}

// serviceTask brings a service to a state and waits for it to become healthy.
type serviceTask struct {
	name      string
	state     string
	timeout   time.Duration
	healthCmd string
}

func newServiceTask(args Args) (Task, error) {
	t := &serviceTask{
		name:      args.String("name"),
		state:     args.String("state"),
		timeout:   args.Duration("timeout"),
		healthCmd: args.String("health_cmd"),
	}

	if !serviceNameRE.MatchString(t.name) {
		return nil, fmt.Errorf("invalid service name %q: use letters, digits, '-', '_', '.' "+
			"and '@', starting with a letter, digit, '_' or '@'", t.name)
	}
	if _, ok := serviceStates[t.state]; !ok {
		return nil, fmt.Errorf("invalid state %q for service %s: use restarted, reloaded "+
			"or started", t.state, t.name)
	}
	if t.timeout <= 0 {
		return nil, fmt.Errorf("invalid timeout %s for service %s: use a positive duration "+
			"such as 60s", t.timeout, t.name)
	}
	if err := t.setHealthCmd(args.Has("health_cmd")); err != nil {
		return nil, err
	}
	return t, nil
}

// setHealthCmd validates the health command, or picks the default when the playbook
// sets none.
func (t *serviceTask) setHealthCmd(isSet bool) error {
	if !isSet {
		if t.name == "docker" || t.name == "docker.service" {
			t.healthCmd = dockerHealthCmd
		}
		return nil
	}
	if strings.TrimSpace(t.healthCmd) == "" {
		return fmt.Errorf("empty health_cmd for service %s: give a command or leave it out",
			t.name)
	}
	if strings.ContainsRune(t.healthCmd, 0) {
		return fmt.Errorf("invalid health_cmd for service %s: it contains a NUL byte", t.name)
	}
	return nil
}

// Run brings the service to its state. A start happens only when the service is not
// active, which costs one extra command to find out.
func (t *serviceTask) Run(ctx context.Context, env *Env) Outcome {
	state := serviceStates[t.state]
	if t.state == "started" {
		active, err := t.probe(ctx, env.Host)
		if err != nil {
			return Failed(err)
		}
		if active {
			return OK(t.name + " is already active")
		}
	}

	if env.Check {
		return Changed("would " + state.action + " " + t.name)
	}

	env.Undo.ServiceRestarted(t.name, t.healthCmd, t.timeout)
	cfg := hostServiceScript(t.name, state.action, t.timeout, t.healthCmd)
	res, err := env.Host.Run(ctx, serviceScript(cfg), nil)
	if err != nil {
		return Failed(&remoteError{op: state.action + " service " + t.name, err: err})
	}
	if res.ExitCode != 0 {
		return Failed(fmt.Errorf("%s service %s: script exited with status %d: %s",
			state.action, t.name, res.ExitCode, outputTail(res.Stderr, 3)))
	}
	return t.outcome(parseRemoteReport(res.Stdout))
}

// probe reports whether the service is active.
func (t *serviceTask) probe(ctx context.Context, host Host) (bool, error) {
	cfg := hostServiceScript(t.name, "probe", t.timeout, "")
	res, err := host.Run(ctx, serviceScript(cfg), nil)
	if err != nil {
		return false, &remoteError{op: "check whether service " + t.name + " is active", err: err}
	}

	active := parseRemoteReport(res.Stdout).fields["active"]
	if res.ExitCode != 0 || (active != "yes" && active != "no") {
		return false, fmt.Errorf("check whether service %s is active: script exited with "+
			"status %d: %s", t.name, res.ExitCode, outputTail(res.Stderr, 3))
	}
	return active == "yes", nil
}

// outcome turns the script's report into the task's outcome.
func (t *serviceTask) outcome(report remoteReport) Outcome {
	state := serviceStates[t.state]
	elapsed, _ := strconv.ParseFloat(report.fields["elapsed_cs"], 64)
	seconds := elapsed / 100

	switch report.fields["result"] {
	case "healthy":
		return Changed(fmt.Sprintf("%s %s, healthy after %.1fs", state.done, t.name, seconds))
	case "timeout":
		reason := t.unhealthyReason(report)
		err := fmt.Errorf("%s %s, but it was not healthy within %s: %s",
			state.done, t.name, t.timeout, reason)
		return t.failedWithLog(err, report)
	case "action-failed":
		err := fmt.Errorf("%s service %s: %s", state.action, t.name, t.actionFailure(report))
		return t.failedWithLog(err, report)
	}
	return Failed(fmt.Errorf("%s service %s: script printed no result: %s", state.action,
		t.name, outputTail([]byte(report.sections["log"]), 3)))
}

// unhealthyReason describes the last failed health check.
func (t *serviceTask) unhealthyReason(report remoteReport) string {
	output := outputTail([]byte(report.sections["health"]), 2)
	status := report.fields["health_status"]
	switch {
	case status == "":
		return output
	case status == "124":
		return fmt.Sprintf("health command %q timed out", shortenBack(t.healthCmd, 60))
	case output == "":
		return fmt.Sprintf("health command exited with status %s", status)
	}
	return fmt.Sprintf("health command exited with status %s: %s", status, output)
}

// actionFailure describes why systemctl or the init script failed.
func (t *serviceTask) actionFailure(report remoteReport) string {
	status := report.fields["action_status"]
	if status == "124" {
		return fmt.Sprintf("did not finish within %s", t.timeout)
	}

	output := outputTail([]byte(report.sections["action"]), 2)
	if output == "" {
		return "exit status " + status
	}
	return fmt.Sprintf("exit status %s: %s", status, output)
}

// failedWithLog returns a failed outcome that carries the service's recent log lines in
// Diff, and the last of them in the message.
func (t *serviceTask) failedWithLog(err error, report remoteReport) Outcome {
	out := Failed(err)
	logText := strings.Join(nonBlankLines(sanitizeOutput(report.sections["log"], true)), "\n")
	if logText == "" {
		return out
	}

	out.Message += "; last log line: " + lastServiceLine(logText, unitFileName(t.name))
	out.Diff = fmt.Sprintf("recent log lines of %s:\n%s\n", t.name, logText)
	return out
}

// lastServiceLine returns the last line of logText that the service wrote, because that
// line usually gives the reason of a failure. It skips the lines in which systemd reports
// the unit's state, such as "Failed to start ..." or "docker.service: Main process
// exited", and returns the last line when every line is systemd's.
func lastServiceLine(logText, unit string) string {
	lines := strings.Split(logText, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		systemd := strings.HasPrefix(line, unit+": ")
		for _, prefix := range []string{"Failed to start ", "Started ", "Starting ",
			"Stopped ", "Stopping ", "Scheduled restart job", "Start request repeated"} {
			systemd = systemd || strings.HasPrefix(line, prefix)
		}
		if !systemd {
			return line
		}
	}
	return lines[len(lines)-1]
}
