package port

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain/session"
)

// RevocationRecord is the durable record of every revocation the
// TokenDenylist enforces (contract §15): ended sessions, per-user
// not-befores, and the refresh chain (which token a rotation revoked and
// which successor it claimed). It lives with the other durable data
// (Postgres, or SQLite in the embedded mode), is written before the
// revoking call answers, and is what the denylist cache (Redis) is rebuilt
// from when that loses its memory. The hot path never reads it.
//
// Times are stored to at least millisecond precision. The record knows no
// clock: callers say what "now" is.
type RevocationRecord interface {
	// Revoke records r, merged with what is recorded for the same kind and
	// ID: the later Until and the later NotBefore win, and a recorded
	// Successor is kept. A Revocation with an invalid kind or an empty ID is
	// domain.ErrInvalid.
	Revoke(ctx context.Context, r session.Revocation) error
	// ClaimRefresh records that the token jti was rotated to the token named
	// successor (a digest, see session.Revocation) and is revoked until until. The first successor
	// recorded for jti wins: claiming it again with the same successor is
	// nil (racing refreshes that were handed the same successor), with
	// another successor, or for a jti already revoked without one (logged
	// out), it is domain.ErrUnauthenticated. Empty arguments are
	// domain.ErrInvalid.
	ClaimRefresh(ctx context.Context, jti, successor string, until time.Time) error
	// InForce calls fn with every revocation whose Until is after now, in no
	// particular order, and stops at fn's first error, which it returns.
	InForce(ctx context.Context, now time.Time, fn func(session.Revocation) error) error
	// Purge deletes every revocation whose Until is not after before and
	// returns how many it deleted.
	Purge(ctx context.Context, before time.Time) (int64, error)
}

// RevocationCache is the fast copy of the RevocationRecord that the hot path
// reads: a TokenDenylist kept in a store that can lose its memory (a Redis
// restarted without persistence, a failover to an empty replica). Its
// adapter marks the copy complete (an epoch marker) when it is built; while
// the marker is missing, TokenDenylist.Check and ClaimRefresh answer
// domain.ErrUnavailable wrapping ErrDenylistCold (fail closed), never a
// decision made on what may be a partial copy.
type RevocationCache interface {
	// Ready returns nil when the copy is complete, an error wrapping
	// ErrDenylistCold when it must be rebuilt, or domain.ErrUnavailable when
	// the store cannot be reached.
	Ready(ctx context.Context) error
	// Rebuild refills the copy from every revocation record holds in force
	// and marks it complete. One caller at a time does the work, across
	// instances; the others wait until it is complete (or ctx ends) and
	// return nil. A copy that is already complete is left alone.
	Rebuild(ctx context.Context, record RevocationRecord) error
	// Invalidate removes the epoch marker, so every instance fails closed
	// until the copy is rebuilt: for when a revocation reached the record
	// but its write to the copy failed, and the copy is known to be behind.
	Invalidate(ctx context.Context) error
}

// ErrDenylistCold means the denylist cache lost its memory (its epoch marker
// is missing) and has not been rebuilt yet.
var ErrDenylistCold = errors.New("the token denylist cache lost its data and is being rebuilt")
