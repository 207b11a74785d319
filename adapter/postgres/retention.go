package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// Retention (contract §14): each purge is one DELETE of at most limit rows,
// chosen by an index on the row's age. FOR UPDATE SKIP LOCKED passes over
// rows a request is changing right now (a refresh touching its session), so
// a purge never waits on a lock and never makes a request wait for more
// than one short batch.

var (
	_ port.SessionPurger   = (*SessionStore)(nil)
	_ port.APIKeyPurger    = (*APIKeyStore)(nil)
	_ port.AuditPurger     = (*AuditStore)(nil)
	_ port.ExecutionPurger = (*ExecutionStore)(nil)
	_ port.JanitorLock     = (*JanitorLock)(nil)
)

// purge runs one batched DELETE of table whose rows match where (with the
// arguments args, then limit as the last placeholder) and returns how many
// it deleted. table and where are package constants, never client input.
func purge(ctx context.Context, db *sqlx.DB, table, where string, limit int, args ...any) (int, error) {
	if limit < 1 {
		return 0, domain.InvalidField("limit", "must be at least 1")
	}
	args = append(args, limit)
	q := `DELETE FROM ` + table + ` WHERE id IN (SELECT id FROM ` + table + ` WHERE ` + where + //nolint:gosec // package constants
		` LIMIT $` + strconv.Itoa(len(args)) + ` FOR UPDATE SKIP LOCKED)`
	return rowsAffected(db.ExecContext(ctx, q, args...))
}

// rowsAffected returns how many rows a statement changed, errors translated.
func rowsAffected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}

// PurgeSessions deletes up to limit sessions ended before endedBefore or,
// never ended, last refreshed before idleBefore.
func (st *SessionStore) PurgeSessions(ctx context.Context, endedBefore, idleBefore time.Time, limit int) (int, error) {
	return purge(ctx, st.db, "sessions",
		`(ended_at < $1) OR (ended_at IS NULL AND last_refreshed_at < $2)`, limit, endedBefore.UTC(), idleBefore.UTC())
}

// PurgeAPIKeys deletes up to limit keys that stopped working before before
// (apikey.Key.StoppedBefore).
func (s *APIKeyStore) PurgeAPIKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	return purge(ctx, s.db, "api_keys",
		`expires_at < $1 OR (revoked_at < $1 AND (grace_until IS NULL OR grace_until < $1))`, limit, before.UTC())
}

// PurgeAuditEvents deletes up to limit events that occurred before before.
func (s *AuditStore) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	return purge(ctx, s.db, "audit_events", `occurred_at < $1`, limit, before.UTC())
}

// PurgeExecutions deletes up to limit deliveries received before before.
func (x *ExecutionStore) PurgeExecutions(ctx context.Context, before time.Time, limit int) (int, error) {
	return purge(ctx, x.db, "executions", `received_at < $1`, limit, before.UTC())
}

// janitorLockKey is the advisory lock every instance's janitor asks for
// (any constant works; this one is "m9m ret" in ASCII). goose's migration
// lock uses a different key.
const janitorLockKey int64 = 0x6d396d20726574

// JanitorLock is port.JanitorLock over a Postgres session-level advisory
// lock, shared by every instance on the database. The lock lives on one
// connection taken from the pool for the pass; if that connection dies,
// Postgres releases the lock and another instance may run the next pass,
// which is harmless: purges are idempotent.
type JanitorLock struct {
	db *sqlx.DB
}

// NewJanitorLock returns the lock over db.
func NewJanitorLock(db *sqlx.DB) *JanitorLock { return &JanitorLock{db: db} }

// TryAcquire asks for the advisory lock without waiting.
func (l *JanitorLock) TryAcquire(ctx context.Context) (func(), bool, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, false, translate(err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, janitorLockKey).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, false, translate(err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { unlock(conn) }) }, true, nil
}

// unlock releases the advisory lock held by conn and returns conn to the pool.
func unlock(conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var unlocked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, janitorLockKey).Scan(&unlocked); err != nil || !unlocked {
		// The session may still hold the lock: drop the connection
		// from the pool, which ends the session and frees it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
}
