package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newMigrateCmd(flags *rootFlags) *cobra.Command {
	cmd := groupCmd("migrate", "Apply or inspect database migrations")
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply all pending migrations (Postgres: safe from several instances at once; SQLite: refused while a server holds the file)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(databaseSections...)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			db, err := openCommandStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() { _ = db.close() }()
			n, err := db.migrate(ctx)
			if err != nil {
				return fmt.Errorf("migrate up: %w", err)
			}
			if n == 0 {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), "nothing to migrate: the schema is up to date")
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s)\n", n)
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(databaseSections...)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			db, err := openCommandStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() { _ = db.close() }()
			st, err := db.status(ctx)
			if err != nil {
				return fmt.Errorf("migrate status: %w", err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			_, _ = fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
			for _, s := range st {
				applied := "-"
				if !s.AppliedAt.IsZero() {
					applied = s.AppliedAt.UTC().Format(time.RFC3339)
				}
				_, _ = fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, applied, s.Source.Path)
			}
			return w.Flush()
		},
	})
	return cmd
}
