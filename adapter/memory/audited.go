package memory

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
)

// AuditInserter is where a memory store puts the events of its audited
// writes: a port.AuditStore (this package's AuditStore, or any other).
type AuditInserter interface {
	Insert(ctx context.Context, events []audit.Event) error
}

// errNoAuditStore refuses an audited write of a store that has nowhere to
// put its events: losing them silently would break the port's promise.
var errNoAuditStore = domain.Internal(errors.New("memory store: audit events given but no audit store attached (AttachAudit)"))

// auditedWrites is embedded by the stores whose writes take audit events.
// The stores call appendLocked under their own lock, after every check of
// the write and before applying it: if the events cannot be stored, nothing
// changes, and once they are the change cannot fail, so the two are atomic
// as the port requires (the audit store's own lock is only ever taken
// inside a store's, never the other way round).
type auditedWrites struct {
	audit AuditInserter
}

// AttachAudit makes the store write the events of its audited writes into
// a. Call it before the store is used.
func (w *auditedWrites) AttachAudit(a AuditInserter) { w.audit = a }

// appendLocked stores events, or nothing when there are none.
func (w *auditedWrites) appendLocked(ctx context.Context, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	if w.audit == nil {
		return errNoAuditStore
	}
	return w.audit.Insert(ctx, events)
}
