package port

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
)

// SessionStore persists login sessions, the durable record behind tokens
// (listing and ending sessions). Whether a token is still accepted is decided
// by the TokenDenylist, not here: ending a session in the store must be
// paired with TokenDenylist.DenySession to cut its tokens off at once.
type SessionStore interface {
	// Create stores s; a duplicate ID is domain.ErrConflict. s.UserID must
	// name an existing user. events are audited with the write (see
	// AuditStore): a login's event lands with the row that makes it visible.
	Create(ctx context.Context, s session.Session, events ...audit.Event) error
	// Get returns the session with id, ended or not, or domain.ErrNotFound.
	Get(ctx context.Context, id string) (*session.Session, error)
	// ListActive returns the user's sessions that have not been ended, newest
	// first. It does not know the maximum session age: the caller filters
	// sessions older than security.jwt.max_session.
	ListActive(ctx context.Context, userID string) ([]session.Session, error)
	// Touch records a refresh of the session at at. An unknown or ended
	// session is domain.ErrNotFound, so a refresh racing a logout fails.
	// events are audited with the write (see AuditStore).
	Touch(ctx context.Context, id string, at time.Time, events ...audit.Event) error
	// End marks the session ended at at. Ending an ended session is a no-op
	// that keeps the first end time (its events are still stored); an
	// unknown id is domain.ErrNotFound. events are audited with the write
	// (see AuditStore).
	End(ctx context.Context, id string, at time.Time, events ...audit.Event) error
}

// SessionEnder ends many sessions at once (password change, user disabled).
type SessionEnder interface {
	// EndAllForUser ends, at at, every active session of userID except
	// exceptID ("" to end them all) and returns the IDs it ended, sorted, so
	// the caller can deny each of them in the TokenDenylist.
	EndAllForUser(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error)
}
