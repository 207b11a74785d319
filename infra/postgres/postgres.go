// Package postgres opens the Postgres pool (sqlx + lib/pq) with an fx
// lifecycle and, unless disabled, applies the embedded migrations at start.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"go.uber.org/fx"
	"go.uber.org/zap"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/dial"
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
	return open(db, pool, onFailure, nil)
}

// open is OpenObserved dialing with d (nil: the driver's own dialer).
func open(db config.DatabaseConfig, pool config.ConnectionPoolConfig, onFailure OnFailure, d dial.Dialer) (*sqlx.DB, error) {
	connector, err := pq.NewConnector(withPassword(db.URL, db.Password))
	if err != nil {
		// lib/pq's parse errors can echo the DSN; keep it out of the message.
		return nil, fmt.Errorf("database.url: invalid Postgres URL")
	}
	if d != nil {
		connector.Dialer(dial.Postgres{D: d})
	}
	conn := sqlx.NewDb(sql.OpenDB(pgadapter.ObserveFailures(connector, onFailure)), "postgres")
	conn.SetMaxOpenConns(pool.MaxOpen)
	conn.SetMaxIdleConns(pool.MaxIdle)
	conn.SetConnMaxLifetime(pool.MaxLifetime)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	return conn, nil
}

// withPassword adds database.password to a DSN that carries none (a URL
// without one, or a key=value DSN without password=); a DSN's own password
// wins, as redis.password defers to the one in redis.url.
func withPassword(dsn, password string) string {
	if password == "" {
		return dsn
	}
	if !strings.Contains(dsn, "://") {
		if strings.Contains(dsn, "password=") {
			return dsn
		}
		quoted := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password)
		return strings.TrimSpace(dsn) + " password='" + quoted + "'"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // sqlx.Open reports it, without quoting the DSN
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return dsn
		}
		u.User = url.UserPassword(u.User.Username(), password)
	} else {
		u.User = url.UserPassword("", password)
	}
	return u.String()
}

// Ping connects once and says what is wrong when it cannot: a database
// that does not exist is named as such, with how to create it; anything
// else is "postgres unreachable". Every command and serve report it the
// same way. The message never contains the URL (it may hold a password).
func Ping(ctx context.Context, db *sqlx.DB, cfg config.DatabaseConfig) error {
	err := db.PingContext(ctx)
	if err == nil {
		return nil
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "3D000" { // invalid_catalog_name
		name := databaseName(cfg.URL)
		return fmt.Errorf("database %q does not exist on the server of database.url: create it (createdb %s, or psql -c 'CREATE DATABASE %s'), or point database.url at an existing database", name, name, name)
	}
	return fmt.Errorf("postgres unreachable (check database.url): %w", err)
}

// databaseName is the database a URL or key=value DSN names ("m9m" when it
// names none, as the URL of a missing database always does here).
func databaseName(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && strings.Contains(dsn, "://") {
		if name := strings.TrimPrefix(u.Path, "/"); name != "" {
			return name
		}
	}
	for _, kv := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(kv, "dbname="); ok && v != "" {
			return strings.Trim(v, "'")
		}
	}
	return "m9m"
}

// Params are the pool's fx dependencies.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Database  config.DatabaseConfig
	Pool      config.ConnectionPoolConfig
	Log       *zap.Logger
	OnFailure OnFailure   `optional:"true"`
	Dialer    dial.Dialer `optional:"true"`
}

// New opens the pool, migrates on start when configured, and closes on stop.
func New(p Params) (*sqlx.DB, error) {
	db, err := open(p.Database, p.Pool, p.OnFailure, p.Dialer)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := Ping(ctx, db, p.Database); err != nil {
				return err
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
