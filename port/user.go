package port

import (
	"context"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
)

// UserStore persists users. Usernames are unique without regard to case:
// "Admin" and "admin" cannot both exist, and lookups by username ignore case.
// Errors are domain errors: ErrNotFound, ErrConflict, and ErrUnavailable when
// the store cannot be reached.
type UserStore interface {
	// Create stores u. If u.ID is empty, Create assigns a fresh domain.NewID()
	// to it. ID, CreatedAt and UpdatedAt are the caller's to set (the use case
	// takes them from its Clock). A duplicate ID or username (ignoring case) is
	// domain.ErrConflict. events are audited with the write (see AuditStore).
	Create(ctx context.Context, u *user.User, events ...audit.Event) error
	// Get returns the user with id, or domain.ErrNotFound.
	Get(ctx context.Context, id string) (*user.User, error)
	// GetByUsername returns the user whose username equals username ignoring
	// case, or domain.ErrNotFound.
	GetByUsername(ctx context.Context, username string) (*user.User, error)
	// Update loads the user with id, holds it locked against concurrent
	// updates, lets fn change it and stores the result, all in one
	// transaction; it returns the stored user. An error from fn aborts the
	// update and is returned unchanged. fn cannot change ID or CreatedAt; it
	// sets UpdatedAt itself. Unknown id is domain.ErrNotFound; a new username
	// that another user holds is domain.ErrConflict. events are audited with
	// the write, read after fn returns (see AuditStore).
	Update(ctx context.Context, id string, fn func(*user.User) error, events ...audit.Event) (*user.User, error)
	// Delete removes the user with id, or returns domain.ErrNotFound. The
	// caller ends the user's sessions and denies their tokens; a store may
	// also drop the session records (Postgres cascades). events are audited
	// with the write (see AuditStore).
	Delete(ctx context.Context, id string, events ...audit.Event) error
}

// UserLister pages through all users in a stable order (creation time, then
// ID), with opaque cursors that stay valid while users are added or removed.
type UserLister interface {
	// List returns up to limit users after cursor ("" for the first page) and
	// the cursor of the next page, "" when there is none. limit must be 1 to
	// MaxListLimit; a bad limit or a malformed cursor is an INVALID_REQUEST
	// naming the field ("limit", "cursor").
	List(ctx context.Context, cursor string, limit int) ([]user.User, string, error)
	// Count returns the number of users.
	Count(ctx context.Context) (int, error)
}

// MaxListLimit is the largest page any lister returns in one call.
const MaxListLimit = 1000
