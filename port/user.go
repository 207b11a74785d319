package port

import (
	"context"
	"errors"
	"time"

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
	// with the write (see AuditStore). A user who still owns workflows is
	// never deleted here: that is domain.ErrConflict and nothing changes
	// (UserRemover decides what becomes of the workflows).
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

// ErrOwnsWorkflows is the cause inside the domain.ErrConflict that
// UserRemover.Remove returns when the user still owns workflows and the
// removal says nothing about them.
var ErrOwnsWorkflows = errors.New("user owns workflows")

// UserRemoval is one deletion of a user and what becomes of the workflows
// they own: moved to TransferTo, deleted (DeleteWorkflows), or, when
// neither is set, the deletion is refused if there are any.
type UserRemoval struct {
	// UserID is the user to delete.
	UserID string
	// TransferTo, when not "", is the user who receives every workflow of
	// UserID, with its webhook and stored deliveries.
	TransferTo string
	// DeleteWorkflows deletes UserID's workflows and their deliveries.
	DeleteWorkflows bool
	// At becomes the UpdatedAt of every transferred workflow.
	At time.Time
	// Check, if set, runs inside the transaction once UserID and TransferTo
	// are locked: owned is how many workflows UserID owns, target the
	// TransferTo user (nil when TransferTo is "" or names no user). An
	// error from Check aborts the removal and is returned unchanged. It is
	// where the caller judges the target (enabled, allowed to own
	// workflows) without a concurrent change slipping in between.
	Check func(owned int, target *user.User) error
	// Events are audited in the removal's transaction (see AuditStore).
	// They are read after Check returns, so Check may complete them with
	// what it learnt (how many workflows go where).
	Events []audit.Event
}

// UserRemover deletes users without ever deleting or orphaning their
// workflows silently (contract §7).
type UserRemover interface {
	// OwnedWorkflows returns how many workflows userID owns (0 for an
	// unknown user).
	OwnedWorkflows(ctx context.Context, userID string) (int, error)
	// Remove deletes r.UserID in one transaction together with the fate of
	// their workflows, and returns how many workflows were transferred or
	// deleted. An unknown user is domain.ErrNotFound. A user who owns
	// workflows, with neither TransferTo nor DeleteWorkflows set, is
	// domain.ErrConflict wrapping ErrOwnsWorkflows; a TransferTo naming no
	// user (or r.UserID itself) is domain.ErrNotFound; in both cases
	// nothing changes. A workflow created for r.UserID while Remove runs is
	// either transferred or deleted with the others (and counted) or its
	// creation fails (its owner is gone): it is never left behind.
	Remove(ctx context.Context, r UserRemoval) (int, error)
}
