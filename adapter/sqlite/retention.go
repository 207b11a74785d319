package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// Retention (contract §14). Each purge is one DELETE of at most limit rows
// picked by rowid from an index on the rows' age: a short write on the one
// writer connection, so requests' writes queue behind one batch at most.
// The embedded mode's janitor lock is the process's own
// (memory.NewJanitorLock): the file lock already keeps every other process
// out.

var (
	_ port.SessionPurger   = (*SessionStore)(nil)
	_ port.APIKeyPurger    = (*APIKeyStore)(nil)
	_ port.AuditPurger     = (*AuditStore)(nil)
	_ port.ExecutionPurger = (*ExecutionStore)(nil)
)

// The purge statements; :before, :idle and :limit are named parameters.
const (
	purgeSessions = `DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions
		WHERE ended_at < :before OR (ended_at IS NULL AND last_refreshed_at < :idle) LIMIT :limit)`
	purgeKeys = `DELETE FROM api_keys WHERE rowid IN (SELECT rowid FROM api_keys
		WHERE expires_at < :before OR (revoked_at < :before AND (grace_until IS NULL OR grace_until < :before)) LIMIT :limit)`
	purgeAudit = `DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events
		WHERE occurred_at < :before LIMIT :limit)`
	purgeExecutions = `DELETE FROM executions WHERE rowid IN (SELECT rowid FROM executions
		WHERE received_at < :before LIMIT :limit)`
)

// deleteBatch runs one of the purge statements with before (and idle) as
// microseconds, and returns how many rows it deleted.
func (db *DB) deleteBatch(ctx context.Context, stmt string, before, idle time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, domain.InvalidField("limit", "must be at least 1")
	}
	return affected(db.W.ExecContext(ctx, stmt,
		sql.Named("before", micros(before)), sql.Named("idle", micros(idle)), sql.Named("limit", limit)))
}

// PurgeSessions deletes up to limit sessions ended before endedBefore or,
// never ended, last refreshed before idleBefore.
func (st *SessionStore) PurgeSessions(ctx context.Context, endedBefore, idleBefore time.Time, limit int) (int, error) {
	return st.db.deleteBatch(ctx, purgeSessions, endedBefore, idleBefore, limit)
}

// PurgeAPIKeys deletes up to limit keys that stopped working before before.
func (s *APIKeyStore) PurgeAPIKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, purgeKeys, before, before, limit)
}

// PurgeAuditEvents deletes up to limit events that occurred before before.
func (s *AuditStore) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.db.deleteBatch(ctx, purgeAudit, before, before, limit)
}

// PurgeExecutions deletes up to limit deliveries received before before.
func (x *ExecutionStore) PurgeExecutions(ctx context.Context, before time.Time, limit int) (int, error) {
	return x.db.deleteBatch(ctx, purgeExecutions, before, before, limit)
}
