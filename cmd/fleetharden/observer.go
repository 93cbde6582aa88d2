package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/runner"
)

// newObserver returns the progress view for a run: live lines on a terminal, plain lines
// otherwise. With --json - progress goes to stderr. Call done when the run ends.
func newObserver(cmd *cobra.Command, f *runFlags, hosts int) (runner.Observer, func()) {
	out := cmd.OutOrStdout()
	if f.jsonPath == "-" {
		out = cmd.ErrOrStderr()
	}
	if file, ok := out.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		live := report.NewLive(out, hosts, os.Getenv("NO_COLOR") == "")
		return live, live.Close
	}
	return report.NewPlain(out, f.diff), func() {}
}
