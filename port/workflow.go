package port

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/workflow"
)

// WorkflowStore persists workflows. A webhook path belongs to at most one
// workflow: storing a second workflow with a taken path is
// domain.ErrConflict. Errors are domain errors: ErrNotFound, ErrConflict,
// and ErrUnavailable when the store cannot be reached.
type WorkflowStore interface {
	// Create stores wf (ID, CreatedAt and UpdatedAt set by the caller).
	// A duplicate ID or webhook path is domain.ErrConflict; OwnerID must
	// name an existing user. events are audited with the write (see
	// AuditStore).
	Create(ctx context.Context, wf *workflow.Workflow, events ...audit.Event) error
	// Get returns the workflow with id, or domain.ErrNotFound.
	Get(ctx context.Context, id string) (*workflow.Workflow, error)
	// GetByWebhookPath returns the workflow whose webhook has path (compared
	// exactly, case included), active or not, or domain.ErrNotFound.
	GetByWebhookPath(ctx context.Context, path string) (*workflow.Workflow, error)
	// Update loads the workflow with id, holds it locked against concurrent
	// updates, lets fn change it and stores the result in one transaction;
	// it returns the stored workflow. An error from fn aborts the update and
	// is returned unchanged. fn cannot change ID, OwnerID or CreatedAt; it
	// sets UpdatedAt itself. A webhook path another workflow holds is
	// domain.ErrConflict. events are audited with the write, read after fn
	// returns (see AuditStore).
	Update(ctx context.Context, id string, fn func(*workflow.Workflow) error, events ...audit.Event) (*workflow.Workflow, error)
	// Delete removes the workflow with id and its executions, or returns
	// domain.ErrNotFound. events are audited with the write (see
	// AuditStore).
	Delete(ctx context.Context, id string, events ...audit.Event) error
}

// WorkflowLister pages through all workflows in a stable order (creation
// time, then ID) with opaque cursors that stay valid while workflows are
// added or removed.
type WorkflowLister interface {
	// List returns up to limit workflows after cursor ("" for the first page)
	// and the next page's cursor, "" when there is none. limit must be 1 to
	// MaxListLimit; a bad limit or a malformed cursor is INVALID_REQUEST
	// naming "limit" or "cursor".
	List(ctx context.Context, cursor string, limit int) ([]workflow.Workflow, string, error)
}

// MaxPageBodyBytes bounds the delivery bodies of one page of
// ExecutionStore.ListByWorkflow (contract §8: 4 MiB), so concurrent list
// calls cannot multiply the server's memory by the page size.
const MaxPageBodyBytes = 4 << 20

// ExecutionStore persists webhook deliveries.
type ExecutionStore interface {
	// Create stores e (ID and ReceivedAt set by the caller). WorkflowID must
	// name an existing workflow (domain.ErrConflict otherwise).
	Create(ctx context.Context, e *workflow.Execution) error
	// ListByWorkflow returns up to limit executions of workflowID, newest
	// first (ReceivedAt, then ID, descending), after cursor, and the next
	// page's cursor ("" when there is none). Bad limit or cursor: as
	// WorkflowLister.List. An unknown workflow has no executions.
	//
	// A page carries at most MaxPageBodyBytes of bodies, and the store never
	// reads more than that into memory for one page: bodies are taken in
	// page order while they fit; one that does not is left out (Body nil,
	// BodyOmitted set), and later ones that still fit are kept.
	ListByWorkflow(ctx context.Context, workflowID, cursor string, limit int) ([]workflow.Execution, string, error)
	// Get returns execution id of workflowID, body included, or
	// domain.ErrNotFound (also when it belongs to another workflow).
	Get(ctx context.Context, workflowID, id string) (*workflow.Execution, error)
	// Prune deletes all but the keep newest executions of workflowID and
	// returns how many it deleted, so a flood of deliveries cannot grow the
	// store without bound.
	Prune(ctx context.Context, workflowID string, keep int) (int, error)
}

// WebhookReplayGuard remembers signatures that were already accepted, shared
// by every instance, so a captured hmac delivery cannot be replayed inside
// its timestamp window.
type WebhookReplayGuard interface {
	// Seen atomically records digest for ttl and reports whether it was
	// already recorded and unexpired: of many concurrent calls with one
	// digest, exactly one gets false. Expiry follows the injected Clock.
	// Infrastructure failures are domain.ErrUnavailable (the caller refuses
	// the delivery: fail closed).
	Seen(ctx context.Context, digest string, ttl time.Duration) (alreadySeen bool, err error)
	// Forget removes digest, for a caller whose Seen recorded it but that
	// then failed to store the delivery: the signature was not used, so the
	// sender's retry must be accepted (contract §8). Forgetting an unknown
	// digest is no error.
	Forget(ctx context.Context, digest string) error
}

// SecretSealer encrypts secrets that must be stored yet stay usable (the
// HMAC secrets of webhooks), with a key from configuration, so a database
// dump alone does not reveal them. Sealed values are authenticated: Open
// fails on anything Seal did not produce with the same key. Errors never
// contain the plaintext.
type SecretSealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// FitBodies decides which bodies of one ListByWorkflow page are kept: given
// their sizes in page order, it keeps each one that still fits in what is
// left of MaxPageBodyBytes. Every store uses it, so they agree.
func FitBodies(sizes []int) []bool {
	keep := make([]bool, len(sizes))
	left := MaxPageBodyBytes
	for i, n := range sizes {
		if n <= left {
			keep[i] = true
			left -= n
		}
	}
	return keep
}
