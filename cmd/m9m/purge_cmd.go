package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"

	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/postgres"
)

// errPassRunning is returned when a serving instance holds the janitor
// lock: its pass deletes the same rows, so trying again later suffices.
var errPassRunning = errors.New("another instance is running a retention pass right now; nothing was deleted by this command, try again in a moment")

func newPurgeCmd(flags *rootFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "purge",
		Short: "Delete data past its retention now (one janitor pass) and print what was deleted",
		Long: "Run one retention pass (the janitor every serve instance runs each retention.interval):\n" +
			"delete ended or expired sessions and expired or revoked API keys older than retention.sessions,\n" +
			"audit events older than retention.audit_events and webhook deliveries older than retention.executions.\n" +
			"Live sessions and working API keys are never deleted. Safe while the service runs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDatabase(cmd, flags, func(ctx context.Context, cfg *config.Config, db *sqlx.DB) error {
				return runPurge(ctx, cmd, cfg, db)
			})
		},
	}
}

// runPurge runs one pass and prints its counts.
func runPurge(ctx context.Context, cmd *cobra.Command, cfg *config.Config, db *sqlx.DB) error {
	r, err := app.NewJanitor(db, cfg.Retention, cfg.Security.JWT, app.SystemClock{}).Pass(ctx)
	if r.Skipped {
		return errPassRunning
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "KIND\tDELETED\tOLDER THAN")
	before := map[string]time.Time{
		"sessions": r.SessionsBefore, "api_keys": r.SessionsBefore,
		"audit_events": r.AuditEventsBefore, "executions": r.ExecutionsBefore,
	}
	for _, k := range r.Kinds() {
		_, _ = fmt.Fprintf(w, "%s\t%d\t%s\n", k.Kind, k.Deleted, before[k.Kind].UTC().Format(time.RFC3339))
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// withDatabase loads the configuration, opens and pings the configured
// Postgres and runs fn, for a one-shot maintenance command (bounded by an
// hour). It applies no migration: the service does.
func withDatabase(cmd *cobra.Command, flags *rootFlags, fn func(context.Context, *config.Config, *sqlx.DB) error) error {
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Hour)
	defer cancel()
	db, err := postgres.Open(cfg.Database, cfg.Performance.ConnectionPool)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("postgres unreachable (check database.url): %w", err)
	}
	return fn(ctx, cfg, db)
}
