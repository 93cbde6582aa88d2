package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fleetharden/fleetharden/report"
)

func newRunsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "runs",
		Short: "List past runs with their time, playbook, hosts and outcome",
		Long: "List the runs recorded on this machine, newest first. Records are kept in\n" +
			"$FLEETHARDEN_STATE_DIR, else $XDG_STATE_HOME/fleetharden, else\n" +
			"~/.local/state/fleetharden. A run without an end was killed before it finished:\n" +
			"fleetharden rollback --run ID undoes what it changed.",
		Example: "  fleetharden runs",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			runs, err := loadRuns()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "RUN\tSTARTED\tPLAYBOOK\tHOSTS\tOUTCOME")
			for _, r := range runs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", r.RunID,
					r.Start.Local().Format("2006-01-02 15:04:05"), r.Playbook,
					r.Summary.Hosts, outcome(r))
			}
			return w.Flush()
		},
	}
}

// loadRuns reads every recorded run, newest first.
func loadRuns() ([]*report.Run, error) {
	base, err := stateDir()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(base, "runs"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var runs []*report.Run
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(base, "runs", e.Name(), "results.json"))
		if err != nil {
			continue
		}
		r := &report.Run{}
		if json.Unmarshal(data, r) == nil {
			runs = append(runs, r)
		}
	}
	// Run ids order by the second a run started, so runs of the same second go by their
	// recorded start time.
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].Start.Equal(runs[j].Start) {
			return runs[i].Start.After(runs[j].Start)
		}
		return runs[i].RunID > runs[j].RunID
	})
	return runs, nil
}

func outcome(r *report.Run) string {
	if r.End.IsZero() {
		return "did not finish (killed?)"
	}
	s := r.Summary
	out := fmt.Sprintf("ok=%d changed=%d failed=%d rolled_back=%d unreachable=%d",
		s.OK, s.Changed, s.Failed, s.RolledBack, s.Unreachable)
	if s.RollbackFailed > 0 {
		out += fmt.Sprintf(" rollback_failed=%d", s.RollbackFailed)
	}
	if r.Check {
		out = "check: " + out
	}
	return out
}
