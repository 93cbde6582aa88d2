package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetharden/fleetharden/audit"
	"github.com/fleetharden/fleetharden/inventory"
)

// exitAuditFailed is the exit status of an audit in which a control failed on some host.
const exitAuditFailed = 7

// auditFlags are the flags of fleetharden audit.
type auditFlags struct {
	conn         connFlags
	inventory    string
	limit        string
	forks        int
	hostTimeout  time.Duration
	controls     string
	skip         []string
	failOn       string
	jsonPath     string
	junitPath    string
	verbose      bool
	listControls bool
}

func (f *auditFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.inventory, "inventory", "i", "", "inventory file (fleetharden YAML, or Ansible YAML or INI)")
	fl.StringVarP(&f.limit, "limit", "l", "", "hosts and groups to audit: names or globs, "+
		"comma-separated; !name excludes, &name keeps only hosts also in name")
	fl.IntVarP(&f.forks, "forks", "f", 100, "number of hosts audited at once")
	fl.DurationVar(&f.hostTimeout, "host-timeout", 2*time.Minute, "time limit for reading "+
		"the state of one host, once connected")
	fl.StringVar(&f.controls, "controls", "", "YAML file of controls that add to the "+
		"built-in ones or override them by id")
	fl.StringSliceVar(&f.skip, "skip", nil, "ids of controls to leave out, comma-separated")
	fl.StringVar(&f.failOn, "fail-on", "fail", "lowest verdict that makes the audit fail: "+
		"fail, or warn to count warnings too")
	fl.StringVar(&f.jsonPath, "json", "", "write the report as JSON to this file (- for stdout)")
	fl.StringVar(&f.junitPath, "junit", "", "write the report as JUnit XML to this file "+
		"(- for stdout), one test case per host and control")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "list every control of every host, "+
		"passed ones included")
	fl.BoolVar(&f.listControls, "list-controls", false, "print the controls, after "+
		"--controls and --skip, and exit without contacting any host")
	f.conn.register(cmd)
}

func newAuditCommand() *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit -i INVENTORY",
		Short: "Report how every host's Docker fares against CIS benchmark controls",
		Long: "Connect to every host in parallel, change nothing, and check the Docker daemon,\n" +
			"its files and its running containers against controls drawn from the CIS\n" +
			"Docker Benchmark. Exits with status 7 when a control fails on some host, and 4\n" +
			"when none failed but a host could not be audited.",
		Example: "  fleetharden audit -i inventory.yaml\n" +
			"  fleetharden audit -i inventory.yaml --junit audit.xml --json audit.json\n" +
			"  fleetharden audit -i inventory.yaml --controls site.yaml --skip daemon.icc-off",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd, f)
		},
	}
	f.register(cmd)
	return cmd
}

// runAudit checks the flags and the controls, audits the selected hosts and writes the
// report.
func runAudit(cmd *cobra.Command, f *auditFlags) error {
	if err := f.check(); err != nil {
		return badInput(err)
	}
	controls, err := f.loadControls()
	if err != nil {
		return badInput(err)
	}
	if f.listControls {
		return printControls(cmd.OutOrStdout(), controls)
	}
	if f.inventory == "" {
		return badInput(fmt.Errorf("required flag \"inventory\" not set\n"+
			"run '%s --help' for usage", cmd.CommandPath()))
	}
	hosts, err := selectHosts(f.inventory, f.limit)
	if err != nil {
		return err
	}
	dial, err := f.conn.dialer(cmd)
	if err != nil {
		return err
	}

	ctx := stopContext(cmd.Context())
	report := audit.Run(ctx, hosts, audit.Options{
		Forks: f.forks, Controls: controls, HostTimeout: f.hostTimeout,
		FailOnWarn: f.failOn == "warn", Logger: loggerFrom(cmd.Context()),
		Dial: func(ctx context.Context, h *inventory.Host) (audit.Conn, error) {
			conn, err := dial(ctx, h)
			if err != nil {
				return nil, err
			}
			return conn, nil
		},
	})
	if err := f.writeReport(cmd, report); err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	return auditExit(ctx, report)
}

// check validates the flags that need no file.
func (f *auditFlags) check() error {
	switch {
	case f.forks < 1:
		return fmt.Errorf("invalid --forks %d: use 1 or more", f.forks)
	case f.failOn != "fail" && f.failOn != "warn":
		return fmt.Errorf("invalid --fail-on %q: use fail or warn", f.failOn)
	case f.jsonPath == "-" && f.junitPath == "-":
		return fmt.Errorf("--json - and --junit - both write to stdout: send one to a file")
	case f.hostTimeout < 0:
		return fmt.Errorf("invalid --host-timeout %v: use 0 for no limit, or a duration",
			f.hostTimeout)
	}
	return nil
}

// loadControls returns the built-in controls with those of --controls merged in and
// those of --skip left out.
func (f *auditFlags) loadControls() ([]*audit.Control, error) {
	controls, err := audit.DefaultControls()
	if err != nil {
		return nil, &exitError{code: exitInternal, err: err}
	}
	if f.controls != "" {
		extra, err := audit.LoadControls(f.controls)
		if err != nil {
			return nil, err
		}
		if controls, err = audit.Merge(controls, extra); err != nil {
			return nil, err
		}
	}
	return audit.Skip(controls, f.skip)
}

// selectHosts reads the inventory and returns the hosts that limit selects.
func selectHosts(path, limit string) ([]*inventory.Host, error) {
	inv, err := inventory.Load(path)
	if err != nil {
		return nil, badInput(err)
	}
	hosts, err := inv.Select(limit)
	if err != nil {
		return nil, badInput(err)
	}
	for _, w := range inv.Warnings {
		slog.Warn(w, "inventory", path)
	}
	return hosts, nil
}

// printControls lists the controls with their section, severity and CIS numbers.
func printControls(w io.Writer, controls []*audit.Control) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSECTION\tSEVERITY\tCIS\tTITLE")
	for _, c := range controls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Section, c.Severity,
			strings.Join(c.CIS, ","), c.Title)
	}
	return tw.Flush()
}

// writeReport prints the table and writes the JSON and JUnit files. When one of them
// goes to stdout, the table goes to stderr, so that stdout holds one document.
func (f *auditFlags) writeReport(cmd *cobra.Command, report *audit.Report) error {
	tableTo := cmd.OutOrStdout()
	if f.jsonPath == "-" || f.junitPath == "-" {
		tableTo = cmd.ErrOrStderr()
	}
	opts := audit.TableOptions{Verbose: f.verbose,
		Color: isTerminal(tableTo) && outputFrom(cmd.Context()).color}
	if err := report.WriteTable(tableTo, opts); err != nil {
		return err
	}

	if err := writeOutput(cmd, f.jsonPath, report.WriteJSON); err != nil {
		return err
	}
	return writeOutput(cmd, f.junitPath, func(w io.Writer) error {
		return report.WriteJUnit(w, f.failOn == "warn")
	})
}

// writeOutput calls write with the file at path, or with stdout for "-", and does
// nothing when path is empty.
func writeOutput(cmd *cobra.Command, path string, write func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		return write(cmd.OutOrStdout())
	}
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write the audit report: %w", err)
	}
	if err := write(file); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("write the audit report: %w", err)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	file, ok := w.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// auditExit maps the report to the exit status: 7 when a control failed, 4 when none
// did but a host was not audited, 130 when interrupted.
func auditExit(ctx context.Context, report *audit.Report) error {
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("audit interrupted")}
	}
	switch report.Outcome() {
	case audit.OutcomeFailed:
		return &exitError{code: exitAuditFailed}
	case audit.OutcomeIncomplete:
		return &exitError{code: exitUnreachable}
	}
	return nil
}
