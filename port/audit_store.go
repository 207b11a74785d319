package port

import (
	"context"

	"github.com/m9m/auth/domain/audit"
)

// AuditStore keeps the audit trail (contract §9). Two paths write it.
//
// Audited writes: the write methods of UserStore, SessionStore, APIKeyStore
// and WorkflowStore take trailing audit events. When such a write succeeds,
// its events are stored with it, in the same transaction, exactly as Insert
// would store them; when it fails (an error from an Update's fn included),
// neither is. So a change that was answered is never without its event, and
// a crash cannot leave an event for a change that did not happen. Events are
// read after an Update's fn returns, so fn may complete them (pass a slice
// you keep, e.g. evs...). A store of these ports therefore shares its
// database, or for the in-memory fakes an attached AuditStore, with the
// audit trail. Use cases pass events; they never see a transaction.
//
// Insert: the background audit writer stores the events that record no
// change (failed logins, throttling, refused credentials) in batches, off the
// request path, so Insert takes a whole batch and costs one round trip.
type AuditStore interface {
	// Insert stores events in one statement, each as events[i].Sanitized()
	// with its time rounded to microseconds and in UTC. An event whose ID is
	// already stored is skipped, so a retried batch never duplicates or
	// fails on what the first attempt wrote. An empty batch does nothing.
	Insert(ctx context.Context, events []audit.Event) error
	// List returns one page of the events matching q, newest first (time,
	// then ID, descending). q is checked with Query.Normalized: a bad limit,
	// filter or cursor is an INVALID_REQUEST naming the field. Events without
	// metadata have a nil Metadata. Infrastructure failures are
	// domain.ErrUnavailable.
	List(ctx context.Context, q audit.Query) (audit.Page, error)
}
