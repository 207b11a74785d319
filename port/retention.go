package port

import (
	"context"
	"time"
)

// The retention ports (contract §14) delete data past its retention, a
// bounded batch per call: each call is one short statement, so a purge never
// holds locks for long and the caller decides how many batches to run. Each
// returns how many rows it deleted; fewer than limit means nothing more
// matches. limit must be at least 1. Errors are domain errors
// (ErrUnavailable when the store cannot be reached).

// SessionPurger deletes sessions that are over: ended before endedBefore, or
// never ended but last refreshed before idleBefore (their last token has
// expired since). A live session is never deleted as long as idleBefore is
// at least one token lifetime in the past.
type SessionPurger interface {
	PurgeSessions(ctx context.Context, endedBefore, idleBefore time.Time, limit int) (int, error)
}

// APIKeyPurger deletes API keys that stopped working before before: expired
// before it, or revoked before it with any rotation grace also over before
// it. A key that still works, or stopped working after before, is kept.
type APIKeyPurger interface {
	PurgeAPIKeys(ctx context.Context, before time.Time, limit int) (int, error)
}

// AuditPurger deletes audit events that occurred before before.
type AuditPurger interface {
	PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// ExecutionPurger deletes webhook deliveries received before before.
type ExecutionPurger interface {
	PurgeExecutions(ctx context.Context, before time.Time, limit int) (int, error)
}

// JanitorLock lets one instance at a time run a retention pass. Postgres
// implements it with a session advisory lock, shared by every instance on
// the database; the embedded mode, one process on one file, with a lock
// held by the process itself.
type JanitorLock interface {
	// TryAcquire takes the lock without waiting. acquired is false when
	// another holder has it (the caller skips this pass); otherwise release
	// must be called, exactly once, to let the next pass run. An error means
	// the lock could not be asked for (store unreachable).
	TryAcquire(ctx context.Context) (release func(), acquired bool, err error)
}
