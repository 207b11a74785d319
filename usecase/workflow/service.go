// Package workflow holds the workflow use cases (contract §7, §8): create,
// read, list, replace and delete workflows, configure their webhooks, and
// list the deliveries those webhooks received.
//
// Who may do what is decided by the pure rules of domain/workflow (CanRead,
// CanWrite, CanCreate); this package applies them to stored workflows.
// Webhook secrets enter here in the clear and leave only as digests (header
// values, basic passwords) or sealed by the port.SecretSealer (HMAC
// secrets); no answer of this package carries them.
package workflow

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// Deps are the ports the workflow use cases need.
type Deps struct {
	Store      port.WorkflowStore
	Lister     port.WorkflowLister
	Executions port.ExecutionStore
	// Sealer encrypts HMAC secrets; nil when security.webhook_encryption_key
	// is not configured, and then hmac webhooks cannot be created (400).
	Sealer port.SecretSealer
	Clock  port.Clock
	// Audit may be nil (no audit log wired).
	Audit port.AuditLog
}

// Service runs the workflow use cases; each lives in its own file.
type Service struct {
	Deps
}

// New returns the workflow use cases over deps.
func New(deps Deps) *Service {
	return &Service{Deps: deps}
}

// Page sizes of the list endpoints.
const (
	DefaultPageSize = 50
	MaxPageSize     = 250
)

var (
	// errNotYours refuses changes to someone else's workflow (contract §7:
	// 403, not 404, because every role may read every workflow anyway).
	errNotYours = domain.ErrForbidden.WithMessage("You can only change your own workflows")
	// errNoOwner refuses creation by a credential with no user account (the
	// basic-auth credential when no user bears its username).
	errNoOwner = domain.ErrForbidden.WithMessage("Workflows need an owning user account; this credential is not linked to one")
	// errPathTaken reports a webhook path another workflow holds.
	errPathTaken = domain.ErrConflict.WithMessage("Webhook path is already in use")
)

// checkPage validates a page size; 0 means DefaultPageSize.
func checkPage(limit int) (int, error) {
	if limit == 0 {
		return DefaultPageSize, nil
	}
	if limit < 1 || limit > MaxPageSize {
		return 0, domain.InvalidField("limit", "must be between 1 and 250")
	}
	return limit, nil
}

// event builds an audit event for p acting on workflow id. Metadata never
// carries a webhook secret.
func (s *Service) event(action audit.Action, outcome audit.Outcome, p principal.Principal, client principal.Client, id string) audit.Event {
	e := audit.Event{
		ID:         domain.NewID(),
		Time:       s.Clock.Now(),
		ActorID:    p.UserID,
		ActorName:  p.Username,
		Action:     action,
		TargetType: "workflow",
		TargetID:   id,
		IP:         client.IP,
		UserAgent:  client.UserAgent,
		Outcome:    outcome,
		Metadata:   map[string]string{"authMethod": string(p.Method)},
	}
	if client.RequestID != "" {
		e.Metadata["requestId"] = client.RequestID
	}
	return e
}

// describe adds what changed hands to a success event: the name and the
// webhook's path and auth type, never its secrets.
func describe(e audit.Event, wf *flow.Workflow) audit.Event {
	e.Metadata["name"] = wf.Name
	if wf.Webhook != nil {
		e.Metadata["webhookPath"] = wf.Webhook.Path
		e.Metadata["webhookAuth"] = string(wf.Webhook.Auth.Type)
	}
	return e
}

// record queues e in the audit log, if there is one; it never blocks.
func (s *Service) record(ctx context.Context, e audit.Event) {
	if s.Audit != nil {
		s.Audit.Record(ctx, e)
	}
}
