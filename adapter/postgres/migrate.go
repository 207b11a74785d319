package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFS holds the schema. Files are named NNNNN_name.sql and numbered
// in sequence; add new ones, never edit an applied one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// NewMigrator returns a goose provider for the embedded migrations. It holds
// a Postgres session-level advisory lock while it migrates, so instances that
// start at once apply each migration exactly once: the others wait (polling
// every second, for up to five minutes) and then find nothing to do. It
// never closes db (do not call the provider's Close, which would).
func NewMigrator(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrator: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration.
func Migrate(ctx context.Context, db *sql.DB) error {
	_, err := MigrateUp(ctx, db)
	return err
}

// MigrateUp applies every pending migration and returns how many it applied
// (0 when the schema was already current).
func MigrateUp(ctx context.Context, db *sql.DB) (int, error) {
	p, err := NewMigrator(db)
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate up: %w", err)
	}
	return len(results), nil
}

// MigrationStatus lists every embedded migration and whether it is applied.
func MigrationStatus(ctx context.Context, db *sql.DB) ([]*goose.MigrationStatus, error) {
	p, err := NewMigrator(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	return st, nil
}
