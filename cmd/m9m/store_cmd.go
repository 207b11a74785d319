package main

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	sqliteadapter "github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/postgres"
	infrasqlite "github.com/m9m/auth/infra/sqlite"
	"github.com/m9m/auth/port"
)

// commandStore is the database a one-shot command (migrate, user create)
// works on, in either mode. In the embedded mode it holds the file's lock
// for as long as the command runs, and refuses to start while a server (or
// another command) holds it: two processes never write one file.
type commandStore struct {
	users interface {
		port.UserStore
		port.UserLister
	}
	audit   port.AuditStore
	migrate func(context.Context) error
	status  func(context.Context) ([]*goose.MigrationStatus, error)
	close   func() error
}

func openCommandStore(ctx context.Context, cfg *config.Config) (*commandStore, error) {
	if cfg.Database.Embedded() {
		f, err := infrasqlite.Open(ctx, cfg.Database, false)
		if err != nil {
			return nil, err
		}
		return &commandStore{
			users:   sqliteadapter.NewUserStore(f.DB),
			audit:   sqliteadapter.NewAuditStore(f.DB),
			migrate: func(ctx context.Context) error { return sqliteadapter.Migrate(ctx, f.DB) },
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
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres unreachable (check database.url): %w", err)
	}
	return &commandStore{
		users:   pgadapter.NewUserStore(db),
		audit:   pgadapter.NewAuditStore(db),
		migrate: func(ctx context.Context) error { return pgadapter.Migrate(ctx, db.DB) },
		status: func(ctx context.Context) ([]*goose.MigrationStatus, error) {
			return pgadapter.MigrationStatus(ctx, db.DB)
		},
		close: db.Close,
	}, nil
}
