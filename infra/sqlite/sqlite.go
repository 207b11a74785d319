// Package sqlite opens the embedded mode's database file (contract §13):
// exclusively locked for the life of the process, migrated at start unless
// database.auto_migrate is false, checkpointed and unlocked on stop.
package sqlite

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	sqliteadapter "github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/infra/config"
)

// File is the open, locked database file.
type File struct {
	*sqliteadapter.DB
	lock *sqliteadapter.FileLock
}

// Open takes the file's exclusive lock (failing at once, naming the file,
// when another process holds it), opens it, checks that it answers and,
// when migrate is set, applies pending migrations. Close releases it all.
func Open(ctx context.Context, cfg config.DatabaseConfig, migrate bool) (*File, error) {
	path := cfg.SQLitePath()
	lock, err := sqliteadapter.Lock(path)
	if err != nil {
		return nil, err
	}
	db, err := sqliteadapter.Open(path, sqliteadapter.Options{})
	if err != nil {
		_ = lock.Unlock()
		return nil, err
	}
	f := &File{DB: db, lock: lock}
	if err := db.Ping(ctx); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sqlite: %s cannot be opened: %w", path, err)
	}
	if migrate {
		if err := sqliteadapter.Migrate(ctx, db); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("apply migrations to %s: %w", path, err)
		}
	}
	return f, nil
}

// Close checkpoints and closes the file, then releases its lock.
func (f *File) Close() error {
	return errors.Join(f.DB.Close(), f.lock.Unlock())
}

// Params are the module's fx dependencies.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Database  config.DatabaseConfig
	Log       *zap.Logger
}

// New provides the database of the embedded mode. The file is opened and
// locked when the app starts (a second `m9m serve` on it fails to start,
// naming the file) and closed on stop, after every hook registered later
// (the stores' users) has stopped.
func New(p Params) (*sqliteadapter.DB, error) {
	db, err := sqliteadapter.Open(p.Database.SQLitePath(), sqliteadapter.Options{})
	if err != nil {
		return nil, err
	}
	var lock *sqliteadapter.FileLock
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) (err error) {
			if lock, err = sqliteadapter.Lock(db.Path); err != nil {
				return err
			}
			defer func() {
				if err != nil { // fx does not stop a hook whose start failed
					_ = lock.Unlock()
				}
			}()
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("sqlite: %s cannot be opened: %w", db.Path, err)
			}
			if p.Database.AutoMigrate {
				if err := sqliteadapter.Migrate(ctx, db); err != nil {
					return fmt.Errorf("apply migrations to %s: %w", db.Path, err)
				}
				p.Log.Info("database migrations applied", zap.String("file", db.Path))
			}
			return nil
		},
		OnStop: func(context.Context) error {
			return errors.Join(db.Close(), lock.Unlock())
		},
	})
	return db, nil
}

// Module provides *sqlite.DB.
var Module = fx.Module("sqlite", fx.Provide(New))
