package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/infra/postgres"
)

func newMigrateCmd(flags *rootFlags) *cobra.Command {
	cmd := groupCmd("migrate", "Apply or inspect database migrations")
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply all pending migrations (safe to run from several instances at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(databaseSections...)
			if err != nil {
				return err
			}
			db, err := postgres.Open(cfg.Database, cfg.Performance.ConnectionPool)
			if err != nil {
				return err
			}
			defer func() { _ = db.Close() }()
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			if err := postgres.Ping(ctx, db, cfg.Database); err != nil {
				return err
			}
			n, err := pgadapter.MigrateUp(ctx, db.DB)
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
			db, err := postgres.Open(cfg.Database, cfg.Performance.ConnectionPool)
			if err != nil {
				return err
			}
			defer func() { _ = db.Close() }()
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			if err := postgres.Ping(ctx, db, cfg.Database); err != nil {
				return err
			}
			st, err := pgadapter.MigrationStatus(ctx, db.DB)
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
