package port

import (
	"context"

	"github.com/m9m/auth/domain/audit"
)

// AuditLog records audit events. Record never blocks on I/O: implementations
// queue the event and write it in the background, so auditing adds no
// database round trip to a request. A full queue is counted and logged,
// never silently dropped.
type AuditLog interface {
	Record(ctx context.Context, e audit.Event)
}
