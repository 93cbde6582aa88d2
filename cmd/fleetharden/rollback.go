package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetharden/fleetharden/inventory"
	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/runner"
)

func newRollbackCommand() *cobra.Command {
	f := &runFlags{}
	var runID string
	var force bool
	cmd := &cobra.Command{
		Use:   "rollback -i INVENTORY --run RUN_ID",
		Short: "Restore every host to its state before an earlier run",
		Long: "Undo the changes of an earlier run on every host, from the journal that run\n" +
			"left on each host. It works after fleetharden was killed in the middle of the\n" +
			"run. A host already rolled back is left alone. A host on which a file the run\n" +
			"wrote has changed again since is reported and left alone unless --force is given.\n" +
			"`fleetharden runs` lists the run ids.",
		Example: "  fleetharden rollback -i inventory.yaml --run 20261204T153012Z-3fa2c1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return rollbackRun(cmd, f, runID, force)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.inventory, "inventory", "i", "", "inventory file")
	fl.StringVarP(&f.limit, "limit", "l", "", "hosts and groups to roll back: names or globs")
	fl.IntVarP(&f.forks, "forks", "f", 100, "number of hosts worked on at once")
	fl.StringVar(&f.jsonPath, "json", "", "write the results as JSON to this file (- for stdout)")
	fl.StringVar(&runID, "run", "", "id of the run to undo, as `fleetharden runs` lists it")
	fl.BoolVar(&force, "force", false, "also restore files changed again since that run")
	f.conn.register(cmd)
	cmd.MarkFlagRequired("inventory")
	cmd.MarkFlagRequired("run")
	return cmd
}

func rollbackRun(cmd *cobra.Command, f *runFlags, runID string, force bool) error {
	if !runIDPattern.MatchString(runID) {
		return badInput(fmt.Errorf("invalid --run %q: a run id looks like "+
			"20261204T153012Z-3fa2c1; fleetharden runs lists them", runID))
	}
	recorded := runRecorded(runID)
	if !recorded {
		slog.Warn("no record of this run on this machine; looking for its journal on the hosts",
			"run_id", runID)
	}
	inv, err := inventory.Load(f.inventory)
	if err != nil {
		return badInput(err)
	}
	hosts, err := inv.Select(f.limit)
	if err != nil {
		return badInput(err)
	}
	if err := checkKeyFiles(hosts); err != nil {
		return badInput(err)
	}
	dial, err := f.conn.dialer(cmd)
	if err != nil {
		return err
	}

	res := &report.Run{RunID: runID, Playbook: "rollback", Inventory: inv.File,
		Start: time.Now().UTC()}
	obs, done, _ := newObserver(cmd, f, len(hosts))
	res.Hosts = runner.Rollback(cmd.Context(), hosts, runner.RollbackOptions{
		RunID: runID, Forks: f.forks, Force: force, Dial: dial, Observer: obs,
		LockWait: time.Minute,
	})
	done()
	res.End = time.Now().UTC()
	res.Summarize()
	if err := writeResults(cmd, f, res); err != nil {
		return err
	}
	if !recorded && noJournalAnywhere(res.Hosts, runID) {
		return badInput(fmt.Errorf("run %s not found: this machine has no record of it and "+
			"no host keeps its journal; check the id with fleetharden runs", runID))
	}
	return rollbackExit(res.Summary)
}

// noJournalAnywhere reports whether every host was reached and keeps no journal of runID,
// as for a mistyped run id.
func noJournalAnywhere(hosts []report.Host, runID string) bool {
	for _, h := range hosts {
		if h.Status != report.HostOK || h.Message != runner.NoJournalMessage(runID) {
			return false
		}
	}
	return len(hosts) > 0
}

// runIDPattern is the form of the run ids newRunID makes.
var runIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$`)

// runRecorded reports whether this machine keeps the results of the run.
func runRecorded(runID string) bool {
	base, err := stateDir()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(base, "runs", runID, "results.json"))
	return err == nil
}

// rollbackExit maps a rollback's outcome to the exit status: here rolled_back is success.
func rollbackExit(s report.Summary) error {
	switch {
	case s.RollbackFailed > 0:
		return &exitError{code: exitRollbackFailed}
	case s.Failed > 0:
		return &exitError{code: exitFailed, err: fmt.Errorf("%d hosts were not rolled back", s.Failed)}
	case s.Unreachable > 0:
		return &exitError{code: exitUnreachable}
	}
	return nil
}
