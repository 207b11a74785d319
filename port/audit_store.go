package port

import (
	"context"

	"github.com/m9m/auth/domain/audit"
)

// AuditStore keeps the audit trail (contract §9). Only the background audit
// writer inserts, so Insert takes a whole batch and costs one round trip.
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
