package tasks

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// factNameRE is the syntax of fact names: an identifier, so a fact can be used as a
// variable in later tasks.
var factNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxFactBytes caps stdout_max at the 4 MiB the transport keeps of each output stream.
const maxFactBytes = 4 << 20

func init() {
	Register(&Kind{
		Name: "command",
		Doc:  "Run a shell command; a nonzero exit status fails the task.",
		Params: []Param{
			{Name: "cmd", Type: TypeString, Required: true, Shell: true,
				Doc: "shell command, run with sh -c; a template inside it inserts its " +
					"value as one quoted word"},
			{Name: "fact", Type: TypeString,
				Doc: "fact name under which to record the command's trimmed stdout"},
			{Name: "changed", Type: TypeBool, Default: false,
				Doc: "report changed when the command succeeds"},
			{Name: "check_mode", Type: TypeBool, Default: false,
				Doc: "also run the command in check mode, because it changes nothing"},
			{Name: "stdout_max", Type: TypeInt, Default: 65536,
				Doc: "maximum number of bytes of stdout kept in the fact"},
		},
		Opaque: true,
		New:    newCommandTask,
	})
}

// commandTask runs a shell command and may record its output as a fact.
type commandTask struct {
	cmd       string
	fact      string
	changed   bool
	checkMode bool
	stdoutMax int
}

func newCommandTask(args Args) (Task, error) {
	t := &commandTask{
		cmd:       args.String("cmd"),
		fact:      args.String("fact"),
		changed:   args.Bool("changed"),
		checkMode: args.Bool("check_mode"),
		stdoutMax: args.Int("stdout_max"),
	}

	switch {
	case strings.TrimSpace(t.cmd) == "":
		return nil, fmt.Errorf("empty cmd: give the shell command to run")
	case strings.ContainsRune(t.cmd, 0):
		return nil, fmt.Errorf("invalid cmd %q: it contains a NUL byte", shortenBack(t.cmd, 60))
	case args.Has("fact") && !factNameRE.MatchString(t.fact):
		return nil, fmt.Errorf("invalid fact name %q: use letters, digits and '_', "+
			"starting with a letter or '_'", t.fact)
	case t.stdoutMax <= 0 || t.stdoutMax > maxFactBytes:
		return nil, fmt.Errorf("invalid stdout_max %d: use 1 to %d bytes", t.stdoutMax,
			maxFactBytes)
	}
	return t, nil
}

// Run runs the command unless check mode skips it.
func (t *commandTask) Run(ctx context.Context, env *Env) Outcome {
	if env.Check && !t.checkMode {
		return Skipped("not run in check mode")
	}

	res, err := env.Host.Run(ctx, t.cmd, nil)
	if err != nil {
		return Failed(&remoteError{op: "run " + t.shortCmd(), err: err})
	}
	if res.ExitCode != 0 {
		return Failed(t.exitError(res.ExitCode, res.Stderr))
	}

	msg := "ran " + t.shortCmd()
	out := OK(msg)
	if t.changed {
		out = Changed(msg)
	}
	if t.fact == "" {
		return out
	}

	value, cut := t.factValue(res.Stdout)
	out.Facts = map[string]any{t.fact: value}
	out.Message += fmt.Sprintf(", recorded %s=%q", t.fact, shortenBack(value, 60))
	if cut || res.Truncated {
		out.Message += " (output truncated)"
	}
	return out
}

// exitError describes a nonzero exit with the last lines of stderr.
func (t *commandTask) exitError(code int, stderr []byte) error {
	tail := outputTail(stderr, 3)
	if tail == "" {
		return fmt.Errorf("run %s: exit status %d", t.shortCmd(), code)
	}
	return fmt.Errorf("run %s: exit status %d: %s", t.shortCmd(), code, tail)
}

// shortCmd returns the command as one short, sanitized line for messages.
func (t *commandTask) shortCmd() string {
	oneLine := strings.Join(strings.Fields(t.cmd), " ")
	return fmt.Sprintf("%q", shortenBack(sanitizeOutput(oneLine, false), 60))
}

// factValue returns stdout sanitized, trimmed and cut to stdoutMax bytes on a rune
// boundary, and whether it was cut.
func (t *commandTask) factValue(stdout []byte) (string, bool) {
	value := strings.TrimSpace(sanitizeOutput(string(stdout), true))
	if len(value) <= t.stdoutMax {
		return value, false
	}

	end := t.stdoutMax
	for end > 0 && !utf8.RuneStart(value[end]) {
		end--
	}
	return value[:end], true
}
