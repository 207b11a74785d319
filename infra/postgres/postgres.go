// Package postgres opens the Postgres pool (sqlx + lib/pq) with an fx
// lifecycle and, unless disabled, applies the embedded migrations at start.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"go.uber.org/fx"
	"go.uber.org/zap"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/infra/config"
)

// Open returns a configured pool. It does not connect; callers ping.
func Open(db config.DatabaseConfig, pool config.ConnectionPoolConfig) (*sqlx.DB, error) {
	return OpenObserved(db, pool, nil)
}

// OnFailure is told of every failed Postgres call that means the database
// cannot serve us (see pgadapter.ObserveFailures); the service counts them
// as m9m_dependency_errors_total{dependency="postgres"}.
type OnFailure func()

// OpenObserved is Open with onFailure (nil for none) told of every failure.
func OpenObserved(db config.DatabaseConfig, pool config.ConnectionPoolConfig, onFailure OnFailure) (*sqlx.DB, error) {
	connector, err := pq.NewConnector(db.URL)
	if err != nil {
		// lib/pq's parse errors can echo the DSN; keep it out of the message.
		return nil, fmt.Errorf("database.url: invalid Postgres URL")
	}
	conn := sqlx.NewDb(sql.OpenDB(pgadapter.ObserveFailures(connector, onFailure)), "postgres")
	conn.SetMaxOpenConns(pool.MaxOpen)
	conn.SetMaxIdleConns(pool.MaxIdle)
	conn.SetConnMaxLifetime(pool.MaxLifetime)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	return conn, nil
}

// Params are the pool's fx dependencies.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Database  config.DatabaseConfig
	Pool      config.ConnectionPoolConfig
	Log       *zap.Logger
	OnFailure OnFailure `optional:"true"`
}

// New opens the pool, migrates on start when configured, and closes on stop.
func New(p Params) (*sqlx.DB, error) {
	db, err := OpenObserved(p.Database, p.Pool, p.OnFailure)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := db.PingContext(ctx); err != nil {
				return fmt.Errorf("postgres unreachable (check database.url): %w", err)
			}
			if p.Database.AutoMigrate {
				if err := pgadapter.Migrate(ctx, db.DB); err != nil {
					return fmt.Errorf("apply migrations: %w", err)
				}
				p.Log.Info("database migrations applied")
			}
			return nil
		},
		OnStop: func(context.Context) error { return db.Close() },
	})
	return db, nil
}

// Module provides *sqlx.DB.
var Module = fx.Module("postgres", fx.Provide(New))
