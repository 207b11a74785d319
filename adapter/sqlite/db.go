package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/m9m/auth/domain/audit"
)

// DB is one SQLite file opened for the stores: a single-connection writer
// pool and a small read-only reader pool over the same file.
type DB struct {
	// W serializes every write (one connection, BEGIN IMMEDIATE).
	W *sqlx.DB
	// R serves reads beside the writer (WAL), query_only.
	R *sqlx.DB
	// Path is the database file.
	Path string
}

// Options tune Open; zero values take the defaults.
type Options struct {
	// Readers is the size of the reader pool (default 4).
	Readers int
	// BusyTimeout bounds how long a statement waits for a lock held by
	// another connection (a checkpoint, say) before SQLITE_BUSY (default 5s).
	BusyTimeout time.Duration
}

// DefaultPath is the file of the embedded mode when database.url names none.
const DefaultPath = "data/m9m.db"

// Open opens (creating it and its directory if needed) the SQLite file at
// path. It does not lock the file (see Lock) nor migrate it (see Migrate).
func Open(path string, o Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?\x00") {
		return nil, errors.New("sqlite: the database path must be non-empty, without '?' or NUL")
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory of %s: %w", path, err)
		}
	}
	w, err := sqlx.Open("sqlite", dsn(path, o, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sqlx.Open("sqlite", dsn(path, o, true))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.Readers)
	r.SetMaxIdleConns(o.Readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	return &DB{W: w, R: r, Path: path}, nil
}

// dsn builds the modernc DSN: WAL, foreign keys, the busy timeout on every
// connection, synchronous=FULL (a commit that was answered survives a power
// cut, not only a crash), BEGIN IMMEDIATE for the writer, query_only for
// readers.
func dsn(path string, o Options, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Ping checks that the file answers a query on both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.W.PingContext(ctx); err != nil {
		return translate(err)
	}
	var one int
	return translate(db.R.GetContext(ctx, &one, `SELECT 1`))
}

// Close checkpoints the WAL into the main file and closes both pools.
func (db *DB) Close() error {
	_, _ = db.W.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`) //nolint:noctx // shutdown, no request context
	return errors.Join(db.R.Close(), db.W.Close())
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE on the one writer
// connection), committing when fn succeeds. fn's errors are returned as
// they are (fn translates its own driver errors).
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := db.W.BeginTxx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return translate(tx.Commit())
}

// audited runs fn in a write transaction and stores events in it after fn
// returns (fn may still complete them): the change and its audit events
// commit together, or neither does (port.AuditStore).
func (db *DB) audited(ctx context.Context, events []audit.Event, fn func(tx *sqlx.Tx) error) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}
