package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

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
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("m9m {{.Version}}\n") // --version prints what `m9m version` does
	root.PersistentFlags().StringVar(&flags.configPath, "config", "", "path to config.yaml (default: none; defaults and M9M_* environment variables only)")
	root.AddCommand(
		newServeCmd(flags),
		newMigrateCmd(flags),
		newConfigCmd(flags),
		newUserCmd(flags),
		newPurgeCmd(flags),
		newWebhooksCmd(flags),
		newVersionCmd(),
		newHealthcheckCmd(flags),
	)
	return root
}

// load reads the configuration and applies the validation rules of
// sections only (every section when none is named), so that a command is
// not refused for settings it never uses.
func (f *rootFlags) load(sections ...string) (*config.Config, error) {
	cfg, err := config.LoadFor(f.configPath, os.Environ(), sections...)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// Sections of the configuration the database commands need.
var databaseSections = []string{"database", "performance.connection_pool"}

// groupCmd is a command that only holds subcommands. Cobra would print the
// help and succeed on a mistyped subcommand (`m9m migrate upp`); this fails
// with a suggestion instead, as an unknown top-level command does.
func groupCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		// Cobra leaves it at 0 (no suggestions) below the root command.
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
			}
			return fmt.Errorf("%s\n\nRun '%s --help' for usage", msg, cmd.CommandPath())
		},
	}
}

// versionString is the build's version, with the Go version for dev builds.
func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		v = "dev (" + bi.GoVersion + ")"
	}
	return v
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (also: m9m --version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "m9m", versionString())
			return err
		},
	}
}
