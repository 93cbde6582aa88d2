package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetharden/fleetharden/playbooks"
	"github.com/fleetharden/fleetharden/tasks"
)

func newPlaybookCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "playbook",
		Short: "Show or check playbooks",
		Example: "  fleetharden playbook show\n" +
			"  fleetharden playbook validate -i inventory.yaml site.yaml",
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "show",
		Short:   "Print the built-in Docker hardening playbook",
		Example: "  fleetharden playbook show > hardening.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(playbooks.DockerHardening)
			return err
		},
	}, newValidateCommand(), newKindsCommand())
	return cmd
}

func newKindsCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "kinds [KIND...]",
		Short:   "List the task kinds with their arguments",
		Example: "  fleetharden playbook kinds\n  fleetharden playbook kinds docker_daemon_config",
		RunE: func(cmd *cobra.Command, args []string) error {
			names := args
			if len(names) == 0 {
				names = tasks.Kinds()
			}
			for _, name := range names {
				kind, ok := tasks.Lookup(name)
				if !ok {
					return badInput(fmt.Errorf("unknown task kind %q: the kinds are %s",
						name, strings.Join(tasks.Kinds(), ", ")))
				}
				writeKind(cmd.OutOrStdout(), kind)
			}
			return nil
		},
	}
}

func writeKind(w io.Writer, kind *tasks.Kind) {
	fmt.Fprintf(w, "%s\n", kind.Name)
	if kind.Doc != "" {
		fmt.Fprintf(w, "  %s\n", kind.Doc)
	}
	for _, p := range kind.Params {
		req := "optional"
		if p.Required {
			req = "required"
		} else if p.Default != nil {
			req = fmt.Sprintf("default %v", p.Default)
		}
		fmt.Fprintf(w, "  %-26s %-16s %s. %s\n", p.Name, p.Type, req, p.Doc)
	}
	fmt.Fprintln(w)
}

func newValidateCommand() *cobra.Command {
	var invPath, limit string
	cmd := &cobra.Command{
		Use:   "validate [PLAYBOOK]",
		Short: "Check a playbook, and with -i its variables for every host, without a run",
		Example: "  fleetharden playbook validate site.yaml\n" +
			"  fleetharden playbook validate -i inventory.yaml site.yaml",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if invPath != "" {
				plan, err := loadPlan(invPath, limit, args)
				if err != nil {
					return err
				}
				printWarnings(cmd.ErrOrStderr(), plan.inventory.Warnings)
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid for %d hosts\n",
					plan.playbook.File, len(plan.jobs))
				return nil
			}
			pb, err := loadPlaybook(args)
			if err != nil {
				return badInput(err)
			}
			if _, err := pb.Compile("(no inventory)", nil); err != nil {
				return badInput(fmt.Errorf("%w\n(variables come from the inventory: "+
					"pass -i to check them too)", err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid\n", pb.File)
			return nil
		},
	}
	cmd.Flags().StringVarP(&invPath, "inventory", "i", "",
		"also check variables for the hosts of this inventory")
	cmd.Flags().StringVarP(&limit, "limit", "l", "", "hosts and groups to check")
	return cmd
}
