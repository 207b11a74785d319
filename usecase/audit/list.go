package audit

import (
	"context"

	"github.com/m9m/auth/domain"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// Lister serves GET /api/v1/audit-events: admins page through the trail.
type Lister struct {
	store port.AuditStore
}

// NewLister returns the list use case over store.
func NewLister(store port.AuditStore) *Lister {
	return &Lister{store: store}
}

// List returns one page of events matching q, newest first. The caller must
// hold audit:read (the route checks it too; the use case does not trust
// that it is only reached through the route). A bad limit, filter, time
// range or cursor is an INVALID_REQUEST naming every bad field.
func (l *Lister) List(ctx context.Context, caller principal.Principal, q auditdomain.Query) (auditdomain.Page, error) {
	if !caller.Can(user.PermAuditRead) {
		return auditdomain.Page{}, domain.ErrForbidden
	}
	q, err := q.Normalized()
	if err != nil {
		return auditdomain.Page{}, err
	}
	return l.store.List(ctx, q)
}
