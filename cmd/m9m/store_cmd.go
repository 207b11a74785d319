package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pressly/goose/v3"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	sqliteadapter "github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/postgres"
	infrasqlite "github.com/m9m/auth/infra/sqlite"
	"github.com/m9m/auth/port"
)

// commandStore is the database a one-shot command (migrate, user create,
// purge, webhooks reseal) works on, in either mode. In the embedded mode it holds the file's lock
// for as long as the command runs, and refuses to start while a server (or
// another command) holds it: two processes never write one file.
type commandStore struct {
	users interface {
		port.UserStore
		port.UserLister
	}
	audit     port.AuditStore
	retention app.RetentionStores
	sealed    port.SealedSecretStore
	migrate   func(context.Context) (int, error)
	status    func(context.Context) ([]*goose.MigrationStatus, error)
	close     func() error
}

func openCommandStore(ctx context.Context, cfg *config.Config) (*commandStore, error) {
	if cfg.Database.Embedded() {
		f, err := infrasqlite.Open(ctx, cfg.Database, false)
		if err != nil {
			return nil, err
		}
		return &commandStore{
			users:     sqliteadapter.NewUserStore(f.DB),
			audit:     sqliteadapter.NewAuditStore(f.DB),
			retention: app.SQLiteRetention(f.DB),
			sealed:    sqliteadapter.NewWorkflowStore(f.DB),
			migrate:   func(ctx context.Context) (int, error) { return sqliteadapter.MigrateUp(ctx, f.DB) },
			status: func(ctx context.Context) ([]*goose.MigrationStatus, error) {
				return sqliteadapter.MigrationStatus(ctx, f.DB)
			},
			close: f.Close,
		}, nil
	}
	db, err := postgres.Open(cfg.Database, cfg.Performance.ConnectionPool)
	if err != nil {
		return nil, err
	}
	if err := postgres.Ping(ctx, db, cfg.Database); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &commandStore{
		users:     pgadapter.NewUserStore(db),
		audit:     pgadapter.NewAuditStore(db),
		retention: app.PostgresRetention(db),
		sealed:    pgadapter.NewWorkflowStore(db),
		migrate:   func(ctx context.Context) (int, error) { return pgadapter.MigrateUp(ctx, db.DB) },
		status: func(ctx context.Context) ([]*goose.MigrationStatus, error) {
			return pgadapter.MigrationStatus(ctx, db.DB)
		},
		close: db.Close,
	}, nil
}

// withStore loads the configuration, opens its database and runs fn, for a
// maintenance command on existing data (purge, webhooks reseal; bounded by
// an hour). It applies no migration: the service does. In the embedded mode
// it refuses a file that does not exist (rather than create an empty one)
// and, like migrate and user create, holds the file's lock while it runs,
// refusing while a server holds it.
func withStore(cmd *cobra.Command, flags *rootFlags, fn func(context.Context, *config.Config, *commandStore) error) error {
	cfg, err := flags.load()
	if err != nil {
		return err
	}
	if cfg.Database.Embedded() {
		if _, err := os.Stat(cfg.Database.SQLitePath()); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no database at %s (database.url): nothing to work on", cfg.Database.SQLitePath())
		}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Hour)
	defer cancel()
	db, err := openCommandStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = db.close() }()
	return fn(ctx, cfg, db)
}
