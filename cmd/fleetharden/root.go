package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "fleetharden",
		Short: "Harden the Docker daemon on a fleet of Linux hosts over SSH",
		Long: "fleetharden runs a YAML playbook of idempotent tasks in parallel against an\n" +
			"inventory of hosts over SSH. With no playbook it runs the built-in Docker\n" +
			"hardening playbook (see `fleetharden playbook show`).",
		Example: "  fleetharden run -i inventory.yaml\n" +
			"  fleetharden run -i inventory.yaml --limit web --json results.json\n" +
			"  fleetharden inventory -i inventory.yaml\n" +
			"  source <(fleetharden completion bash)",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd); err != nil {
				return err
			}
			return g.apply(cmd)
		},
	}
	g.register(root)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return badInput(fmt.Errorf("%w\nrun '%s --help' for usage", err, cmd.CommandPath()))
	})

	root.AddCommand(newRunCommand(), newCheckCommand(), newInventoryCommand(),
		newPlaybookCommand(), newRollbackCommand(), newRunsCommand(), newVersionCommand())
	root.AddCommand(newAuditCommand())
	return root
}

// applyEnv sets each flag the command line left alone from its environment twin:
// --become-pass-file from FLEETHARDEN_BECOME_PASS_FILE, and so on.
func applyEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if serr := cmd.Flags().Set(f.Name, v); serr != nil {
				err = badInput(fmt.Errorf("invalid %s=%q: %w", name, v, serr))
			}
		}
	})
	return err
}

func envName(flag string) string {
	return "FLEETHARDEN_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the fleetharden version",
		Example: "  fleetharden version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "fleetharden %s\n", version)
			return nil
		},
	}
}

// globalFlags are the flags of every command: where logs go and how output looks.
type globalFlags struct {
	logLevel  string
	logFormat string
	noColor   bool
}

func (g *globalFlags) register(root *cobra.Command) {
	fl := root.PersistentFlags()
	fl.StringVar(&g.logLevel, "log-level", "warn", "least severe log records written to "+
		"stderr: debug, info, warn or error")
	fl.StringVar(&g.logFormat, "log-format", "text", "format of log records: text or json")
	fl.BoolVar(&g.noColor, "no-color", false, "print no colors (so does a non-empty NO_COLOR "+
		"environment variable)")
}

// apply checks the flags and gives the command its logger and color setting.
func (g *globalFlags) apply(cmd *cobra.Command) error {
	stderr := &lockedWriter{w: cmd.ErrOrStderr()}
	logger, err := newLogger(stderr, g.logLevel, g.logFormat)
	if err != nil {
		return badInput(err)
	}

	color := !g.noColor && os.Getenv("NO_COLOR") == ""
	out := output{logger: logger, color: color, stderr: stderr}
	ctx := context.WithValue(cmd.Context(), outputKey{}, out)
	cmd.SetContext(ctx)
	return nil
}

// newLogger returns a logger that writes records of level and above to w
// in format, text or json.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil || strings.ContainsAny(level, "+-") {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", level)
	}

	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: use text or json", format)
}

type outputKey struct{}

// output is the logger and color setting that the global flags give a command.
type output struct {
	logger *slog.Logger
	color  bool
	stderr io.Writer // stderr, locked so that log records and plain progress lines do not mix
}

// lockedWriter serializes writes to w, so that the log and the progress lines can share
// stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.Write(p)
}

// outputFrom returns the output settings in ctx: no logs and no colors when
// none were set.
func outputFrom(ctx context.Context) output {
	if out, ok := ctx.Value(outputKey{}).(output); ok {
		return out
	}
	return output{logger: slog.New(slog.DiscardHandler), stderr: io.Discard}
}

// loggerFrom returns the logger in ctx, or one that discards every record.
func loggerFrom(ctx context.Context) *slog.Logger {
	return outputFrom(ctx).logger
}
