package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetharden/fleetharden/report"
	"github.com/fleetharden/fleetharden/runner"
)

// newObserver returns the progress view for a run: a live view on a terminal, plain lines
// otherwise, and whether it is live. With --json - or --junit - progress goes to stderr.
// Call done when the run ends.
func newObserver(cmd *cobra.Command, f *runFlags, hosts int) (obs runner.Observer,
	done func(), live bool) {
	out := f.progressOut(cmd)
	if file, ok := out.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		live := report.NewLive(out, hosts, outputFrom(cmd.Context()).color)
		return live, live.Close, true
	}
	if out == cmd.ErrOrStderr() {
		// The log writes to stderr too, through this writer.
		out = outputFrom(cmd.Context()).stderr
	}
	return report.NewPlain(out, f.diff), func() {}, false
}
