package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fleetharden/fleetharden/inventory"
)

func newFromVagrantCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "from-vagrant [FILE|-]",
		Short: "Write an inventory of Vagrant machines from `vagrant ssh-config` output",
		Long: "Read the output of `vagrant ssh-config` from FILE, or from standard input\n" +
			"when FILE is - or missing, and print an inventory in fleetharden's format:\n" +
			"each machine with its HostName, Port, User and first IdentityFile, and sudo\n" +
			"on. Vagrant turns host key checks off for its machines; the header of the\n" +
			"inventory says how to record their keys in a known_hosts file of their own.",
		Example: "  vagrant ssh-config | fleetharden inventory from-vagrant > vagrant.yaml\n" +
			"  fleetharden inventory from-vagrant .vagrant/ssh-config > vagrant.yaml",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			input, closeInput, err := vagrantInput(cmd, args)
			if err != nil {
				return badInput(err)
			}
			defer closeInput()

			data, err := inventory.FromVagrantSSHConfig(input)
			if err != nil {
				return badInput(err)
			}
			_, err = cmd.OutOrStdout().Write(data)

			return err
		},
	}
}

// vagrantInput opens the file named in args, or returns standard input for "-" or no
// argument. It rejects a terminal as standard input, where the command would wait for
// text that the operator did not mean to type.
func vagrantInput(cmd *cobra.Command, args []string) (io.Reader, func(), error) {
	if len(args) == 1 && args[0] != "-" {
		file, err := os.Open(args[0])
		if err != nil {
			return nil, nil, fmt.Errorf("open vagrant ssh-config: %w", err)
		}
		return file, func() { file.Close() }, nil
	}

	stdin := cmd.InOrStdin()
	if file, ok := stdin.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		return nil, nil, errors.New("read vagrant ssh-config: standard input is a " +
			"terminal; pipe in the output of `vagrant ssh-config`, or give its file")
	}

	return stdin, func() {}, nil
}
