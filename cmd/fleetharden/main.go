// Command fleetharden hardens the Docker daemon on a fleet of Linux hosts over SSH. It runs
// a YAML playbook of idempotent tasks in parallel against an inventory of hosts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx := handleSignals(context.Background(), os.Stderr)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

type stopKey struct{}

// handleSignals returns a context that is cancelled on the second SIGINT or SIGTERM. The
// first one only cancels the context that stopContext returns: the run then starts no new
// host or task, and lets the tasks under way finish or roll back.
func handleSignals(parent context.Context, stderr io.Writer) context.Context {
	kill, cancelKill := context.WithCancel(parent)
	stop, cancelStop := context.WithCancel(kill)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(stderr, "\ninterrupted: finishing the tasks under way, then rolling "+
			"back unfinished hosts; interrupt again to stop at once")
		cancelStop()
		<-signals
		fmt.Fprintln(stderr, "\nstopping at once")
		cancelKill()
	}()
	return context.WithValue(kill, stopKey{}, stop)
}

// stopContext returns the context that the first interrupt cancels, or ctx itself.
func stopContext(ctx context.Context) context.Context {
	if stop, ok := ctx.Value(stopKey{}).(context.Context); ok {
		return stop
	}
	return ctx
}

// run executes the command line args and returns an error that maps to the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	started := false
	markStart(root, &started)

	err := root.ExecuteContext(ctx)
	var ee *exitError
	if err != nil && !started && !errors.As(err, &ee) {
		// cobra's own checks (an unknown command, a missing required flag, extra
		// arguments) fail before any command runs: these are usage mistakes.
		return badInput(fmt.Errorf("%w\nrun 'fleetharden --help' for usage", err))
	}
	return err
}

// markStart wraps every command's RunE so that started records whether a command began.
func markStart(cmd *cobra.Command, started *bool) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			*started = true
			return run(c, args)
		}
	}
	for _, sub := range cmd.Commands() {
		markStart(sub, started)
	}
}

// The exit statuses, documented in the README.
const (
	exitOK             = 0
	exitInternal       = 1 // an unexpected error in fleetharden itself
	exitBadInput       = 2 // bad flags, inventory or playbook: no host was touched
	exitFailed         = 3 // a task failed on at least one host, which was rolled back
	exitUnreachable    = 4 // at least one host could not be reached, and none failed
	exitRollbackFailed = 5 // a host could not be rolled back and is left changed
	exitDrift          = 6 // check mode: at least one host would change
	exitInterrupted    = 130
)

// exitError carries an exit status and, optionally, a message for stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as a problem with the operator's input.
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "error: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	return exitInternal
}
