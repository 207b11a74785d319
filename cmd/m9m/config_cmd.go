package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newConfigCmd(flags *rootFlags) *cobra.Command {
	cmd := groupCmd("config", "Inspect configuration")
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check the configuration (file + M9M_* environment) without starting anything",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := flags.load(); err != nil {
				return err
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "configuration is valid")
			return err
		},
	})
	return cmd
}
