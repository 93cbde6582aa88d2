package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "fleetharden",
		Short: "Harden the Docker daemon on a fleet of Linux hosts over SSH",
		Long: "fleetharden runs a YAML playbook of idempotent tasks in parallel against an\n" +
			"inventory of hosts over SSH. With no playbook it runs the built-in Docker\n" +
			"hardening playbook (see `fleetharden playbook show`).",
		Example: "  fleetharden run -i inventory.yaml\n" +
			"  fleetharden run -i inventory.yaml --limit web --json results.json\n" +
			"  fleetharden inventory -i inventory.yaml",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd)
		},
	}
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
		Use:   "version",
		Short: "Print the fleetharden version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "fleetharden %s\n", version)
			return nil
		},
	}
}
