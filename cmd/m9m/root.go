package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/m9m/auth/infra/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type rootFlags struct {
	configPath string
}

func newRootCmd() *cobra.Command {
	flags := &rootFlags{}
	root := &cobra.Command{
		Use:           "m9m",
		Short:         "m9m API authentication service",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&flags.configPath, "config", "", "path to config.yaml (default: none; defaults and M9M_* environment variables only)")
	root.AddCommand(
		newServeCmd(flags),
		newMigrateCmd(flags),
		newConfigCmd(flags),
		newUserCmd(flags),
		newPurgeCmd(flags),
		newWebhooksCmd(flags),
		newVersionCmd(),
	)
	return root
}

func (f *rootFlags) load() (*config.Config, error) {
	cfg, err := config.LoadFromOS(f.configPath)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
				v = "dev (" + bi.GoVersion + ")"
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "m9m", v)
			return err
		},
	}
}
