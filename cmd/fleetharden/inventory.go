package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetharden/fleetharden/inventory"
)

func newInventoryCommand() *cobra.Command {
	var path, limit string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inventory -i INVENTORY",
		Short: "Print the resolved hosts with their connection settings and variables",
		Long: "Read an inventory (fleetharden's YAML, or Ansible's YAML or INI) and print each\n" +
			"selected host with its address, port, user, key, sudo setting, groups and\n" +
			"merged variables. No host is contacted.",
		Example: "  fleetharden inventory -i inventory.yaml\n" +
			"  fleetharden inventory -i hosts.yml --limit 'web*' --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, err := inventory.Load(path)
			if err != nil {
				return badInput(err)
			}
			hosts, err := inv.Select(limit)
			if err != nil {
				return badInput(err)
			}
			printWarnings(cmd.ErrOrStderr(), inv.Warnings)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(hosts)
			}
			printHosts(cmd, hosts)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "inventory", "i", "", "inventory file")
	cmd.Flags().StringVarP(&limit, "limit", "l", "", "hosts and groups to print: names or globs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the hosts as JSON")
	cmd.MarkFlagRequired("inventory")
	cmd.AddCommand(newFromVagrantCommand())
	return cmd
}

func printHosts(cmd *cobra.Command, hosts []*inventory.Host) {
	w := cmd.OutOrStdout()
	for _, h := range hosts {
		key := h.KeyFile
		if key == "" {
			key = "(agent and default keys)"
		}
		fmt.Fprintf(w, "%s\n", h.Name)
		fmt.Fprintf(w, "  address: %s:%d\n  user:    %s\n  key:     %s\n  become:  %t\n",
			h.Address, h.Port, h.User, key, h.Become)
		fmt.Fprintf(w, "  groups:  %s\n", strings.Join(h.Groups, ", "))
		names := make([]string, 0, len(h.Vars))
		for k := range h.Vars {
			names = append(names, k)
		}
		sort.Strings(names)
		if len(names) > 0 {
			fmt.Fprintf(w, "  vars:\n")
		}
		for _, k := range names {
			v, _ := json.Marshal(h.Vars[k])
			fmt.Fprintf(w, "    %s: %s\n", k, v)
		}
	}
	fmt.Fprintf(w, "%d hosts\n", len(hosts))
}

// printWarnings writes each inventory warning on a line of its own, for the commands
// that check input without a run and so write no log.
func printWarnings(w io.Writer, warnings []string) {
	for _, warning := range warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}
