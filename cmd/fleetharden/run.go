package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/runner"
)

// runFlags are the flags of run and check.
type runFlags struct {
	conn      connFlags
	serial    string
	maxFail   float64
	lockWait  time.Duration
	limit     string
	forks     int
	timeout   time.Duration
	jsonPath  string
	junitPath string
	check     bool
	diff      bool
	inventory string
}

func (f *runFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.inventory, "inventory", "i", "", "inventory file (fleetharden YAML, or Ansible YAML or INI)")
	fl.StringVarP(&f.limit, "limit", "l", "", "hosts and groups to run on: names or globs, "+
		"comma-separated; !name excludes, &name keeps only hosts also in name")
	fl.IntVarP(&f.forks, "forks", "f", 100, "number of hosts worked on at once")
	fl.DurationVar(&f.timeout, "task-timeout", 5*time.Minute, "time limit for one task on one host")
	fl.StringVar(&f.jsonPath, "json", "", "write the results as JSON to this file (- for stdout)")
	fl.StringVar(&f.junitPath, "junit", "", "write the results as a JUnit XML report to this "+
		"file (- for stdout), one test case per host and task")
	fl.BoolVar(&f.diff, "diff", false, "show the diff of every file a task changes")
	fl.StringVar(&f.serial, "serial", "", "roll out in batches: host counts or percentages, "+
		"such as 1,10%,100%; the last size repeats")
	fl.DurationVar(&f.lockWait, "lock-timeout", time.Minute, "how long to wait for a host "+
		"that another fleetharden run is changing")
	fl.Float64Var(&f.maxFail, "max-fail-percent", 100, "stop the rollout after a batch in "+
		"which more than this percentage of hosts failed")
	f.conn.register(cmd)
	cmd.MarkFlagRequired("inventory")
}

func newRunCommand() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run -i INVENTORY [PLAYBOOK]",
		Short: "Run a playbook on every host of an inventory",
		Long: "Run a playbook on every host of the inventory, in parallel over SSH. With no\n" +
			"PLAYBOOK it runs the built-in Docker hardening playbook. A host whose change\n" +
			"fails is rolled back to how it was before the run; the others go on.",
		Example: "  fleetharden run -i inventory.yaml\n" +
			"  fleetharden run -i hosts.yml site.yaml --limit 'web*' --json -\n" +
			"  fleetharden run -i inventory.yaml --check --diff\n" +
			"  fleetharden run -i inventory.yaml -F ~/.ssh/fleet_config --log-level info",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlaybook(cmd, f, args)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.check, "check", false, "report what would change, change nothing")
	return cmd
}

func newCheckCommand() *cobra.Command {
	f := &runFlags{check: true}
	cmd := &cobra.Command{
		Use:   "check -i INVENTORY [PLAYBOOK]",
		Short: "Report what a run would change, for drift detection",
		Long: "Contact every host, read its state and report what each task would change,\n" +
			"changing nothing. Exits with status 6 when any host would change.",
		Example: "  fleetharden check -i inventory.yaml --diff\n" +
			"  fleetharden check -i inventory.yaml --json drift.json --junit drift.xml",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlaybook(cmd, f, args)
		},
	}
	f.register(cmd)
	return cmd
}

// validate checks the flags that need more than their type, and returns the batches of
// --serial.
func (f *runFlags) validate() ([]runner.BatchSize, error) {
	if f.forks < 1 {
		return nil, badInput(fmt.Errorf("invalid --forks %d: use 1 or more", f.forks))
	}
	serial, err := runner.ParseSerial(f.serial)
	if err != nil {
		return nil, badInput(fmt.Errorf("--serial: %w", err))
	}
	if f.maxFail < 0 || f.maxFail > 100 {
		return nil, badInput(fmt.Errorf("invalid --max-fail-percent %g: use 0 to 100",
			f.maxFail))
	}
	if f.jsonPath == "-" && f.junitPath == "-" {
		return nil, badInput(fmt.Errorf("--json - and --junit - both write to stdout: " +
			"name a file for one of them"))
	}
	err = errors.Join(checkOutputPath("--json", f.jsonPath),
		checkOutputPath("--junit", f.junitPath), checkPositive("--task-timeout", f.timeout),
		checkPositive("--connect-timeout", f.conn.connectTimeout),
		checkPositive("--lock-timeout", f.lockWait))
	if err != nil {
		return nil, badInput(err)
	}
	return serial, nil
}

func runPlaybook(cmd *cobra.Command, f *runFlags, args []string) error {
	serial, err := f.validate()
	if err != nil {
		return err
	}
	plan, err := loadPlan(f.inventory, f.limit, args)
	if err != nil {
		return err
	}
	for _, w := range plan.inventory.Warnings {
		slog.Warn(w, "inventory", f.inventory)
	}
	conn, err := f.conn.connector(cmd)
	if err != nil {
		return err
	}
	defer conn.close()
	if err := conn.check(jobHosts(plan.jobs)); err != nil {
		return badInput(err)
	}
	if err := checkKeyFiles(jobHosts(plan.jobs)); err != nil {
		return badInput(err)
	}

	ctx := cmd.Context()
	res := &report.Run{RunID: newRunID(), Playbook: plan.playbook.File,
		Inventory: plan.inventory.File, Check: f.check, Start: time.Now().UTC(),
		Hosts: []report.Host{}, Summary: report.Summary{Hosts: len(plan.jobs)}}
	conn.logger = conn.logger.With(slog.String("run_id", res.RunID))
	records, err := runDir(res.RunID)
	if err != nil {
		return err
	}
	// Written before any host is contacted, so the run is listed even if this process
	// is killed.
	if err := res.WriteJSON(filepath.Join(records, "results.json"), nil); err != nil {
		return err
	}

	obs, done, live := newObserver(cmd, f, len(plan.jobs))
	res.Hosts = runner.Run(ctx, plan.jobs, runner.Options{
		RunID: res.RunID, Forks: f.forks, TaskTimeout: f.timeout, Check: f.check,
		Dial: conn.dial, Observer: obs, Stop: stopContext(ctx), Serial: serial,
		MaxFailPercent: f.maxFail, LockWait: f.lockWait, JournalDir: filepath.Join(records, "journal"),
		Logger: loggerFrom(ctx),
	})
	done()
	res.End = time.Now().UTC()
	res.Summarize()
	if live && f.diff {
		// The live view has no room for diffs, so they follow it.
		report.WriteDiffs(f.progressOut(cmd), res)
	}

	if err := res.WriteJSON(filepath.Join(records, "results.json"), nil); err != nil {
		return err
	}
	if err := writeResults(cmd, f, res); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("run %s stopped at once; "+
			"hosts it changed keep their journal: undo with %s", res.RunID, rollbackHint(f, res.RunID))}
	}
	if stopContext(ctx).Err() != nil {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("run %s interrupted", res.RunID)}
	}
	return runExit(res)
}

// writeResults prints the recap and writes the JSON results and the JUnit report. With
// --json - or --junit - that document goes to stdout and the recap to stderr, so stdout
// stays one document.
func writeResults(cmd *cobra.Command, f *runFlags, res *report.Run) error {
	report.WriteRecap(f.progressOut(cmd), res)
	if f.jsonPath != "" {
		if err := res.WriteJSON(f.jsonPath, cmd.OutOrStdout()); err != nil {
			return &exitError{code: exitInternal, err: err}
		}
	}
	if f.junitPath != "" {
		if err := res.WriteJUnit(f.junitPath, cmd.OutOrStdout()); err != nil {
			return &exitError{code: exitInternal, err: err}
		}
	}
	return nil
}

// progressOut returns where progress and the recap go: stdout, unless the results go
// there.
func (f *runFlags) progressOut(cmd *cobra.Command) io.Writer {
	if f.jsonPath == "-" || f.junitPath == "-" {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}

// runExit maps the run's outcome to the exit status, the worst outcome winning.
func runExit(res *report.Run) error {
	s := res.Summary
	switch {
	case s.RollbackFailed > 0:
		return &exitError{code: exitRollbackFailed}
	case s.Failed > 0 || s.RolledBack > 0:
		return &exitError{code: exitFailed}
	case s.Unreachable > 0:
		return &exitError{code: exitUnreachable}
	case res.Check && s.Changed > 0:
		return &exitError{code: exitDrift}
	}
	return nil
}

// jobHosts returns the host of each job.
func jobHosts(jobs []runner.Job) []*inventory.Host {
	hosts := make([]*inventory.Host, len(jobs))
	for i, job := range jobs {
		hosts[i] = job.Host
	}
	return hosts
}

// rollbackHint returns the command that undoes a run, with the connection flags it needs.
func rollbackHint(f *runFlags, runID string) string {
	hint := fmt.Sprintf("fleetharden rollback -i %s --run %s", f.inventory, runID)
	if f.conn.knownHosts != "" {
		hint += " --known-hosts " + f.conn.knownHosts
	}
	if f.conn.becomePassFile != "" {
		hint += " --become-pass-file " + f.conn.becomePassFile
	}
	if f.conn.askBecomePass {
		hint += " --ask-become-pass"
	}
	if f.conn.sshConfig != "" {
		hint += " -F " + f.conn.sshConfig
	}
	if f.conn.noAgent {
		hint += " --no-agent"
	}
	return hint
}
