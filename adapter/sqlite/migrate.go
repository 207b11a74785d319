package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// migrationFS holds the schema, numbered in sequence; add files, never edit
// an applied one. No migration lock is needed: the file lock (Lock) already
// keeps every other process out.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// NewMigrator returns a goose provider for the embedded migrations over the
// writer pool. It never closes the pool (do not call the provider's Close).
func NewMigrator(db *DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.W.DB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrator: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration.
func Migrate(ctx context.Context, db *DB) error {
	_, err := MigrateUp(ctx, db)
	return err
}

// MigrateUp applies every pending migration and returns how many it applied
// (0 when the schema was already current).
func MigrateUp(ctx context.Context, db *DB) (int, error) {
	p, err := NewMigrator(db)
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: migrate up: %w", err)
	}
	return len(results), nil
}

// MigrationStatus lists every embedded migration and whether it is applied.
func MigrationStatus(ctx context.Context, db *DB) ([]*goose.MigrationStatus, error) {
	p, err := NewMigrator(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration status: %w", err)
	}
	return st, nil
}
