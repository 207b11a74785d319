package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"sync"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// WorkflowStore is an in-process port.WorkflowStore and port.WorkflowLister.
// It also keeps the executions of its workflows (see Executions), so that
// deleting a workflow deletes them, as the Postgres foreign key does.
// Values are copied in and out: callers never share memory with the store.
type WorkflowStore struct {
	auditedWrites

	mu         sync.Mutex
	workflows  map[string]workflow.Workflow
	executions map[string][]workflow.Execution // workflow ID → deliveries
	execIDs    map[string]bool                 // every stored execution ID
	// owners, once a UserRemover links it, plays the foreign key from
	// workflows to users: a workflow's owner must exist.
	owners *UserStore
}

var (
	_ port.WorkflowStore  = (*WorkflowStore)(nil)
	_ port.WorkflowLister = (*WorkflowStore)(nil)
)

// NewWorkflowStore returns an empty store.
func NewWorkflowStore() *WorkflowStore {
	return &WorkflowStore{
		workflows:  make(map[string]workflow.Workflow),
		executions: make(map[string][]workflow.Execution),
		execIDs:    make(map[string]bool),
	}
}

// copyWorkflow returns a deep copy of wf with times as Postgres keeps them
// and JSON compacted, so both stores hand back equivalent values.
func copyWorkflow(wf workflow.Workflow) workflow.Workflow {
	wf.Nodes = compactJSON(wf.Nodes)
	wf.Connections = compactJSON(wf.Connections)
	wf.CreatedAt = dbTime(wf.CreatedAt)
	wf.UpdatedAt = dbTime(wf.UpdatedAt)
	if wf.Webhook != nil {
		h := *wf.Webhook
		h.Auth.HMACSecretSealed = bytes.Clone(h.Auth.HMACSecretSealed)
		wf.Webhook = &h
	}
	return wf
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return bytes.Clone(raw)
	}
	return buf.Bytes()
}

// pathTakenLocked reports whether a workflow other than id holds path.
func (s *WorkflowStore) pathTakenLocked(path, id string) bool {
	for _, wf := range s.workflows {
		if wf.ID != id && wf.Webhook != nil && wf.Webhook.Path == path {
			return true
		}
	}
	return false
}

// Create stores a copy of wf.
func (s *WorkflowStore) Create(ctx context.Context, wf *workflow.Workflow, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.owners != nil {
		s.owners.mu.Lock() // lock order: users before workflows
		defer s.owners.mu.Unlock()
		if _, ok := s.owners.users[wf.OwnerID]; !ok {
			return domain.ErrConflict.WithMessage("Resource is referenced by or refers to another resource")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workflows[wf.ID]; ok || wf.ID == "" {
		return domain.ErrConflict
	}
	if wf.Webhook != nil && s.pathTakenLocked(wf.Webhook.Path, wf.ID) {
		return domain.ErrConflict
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	s.workflows[wf.ID] = copyWorkflow(*wf)
	return nil
}

// Get returns a copy of the workflow with id.
func (s *WorkflowStore) Get(ctx context.Context, id string) (*workflow.Workflow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wf, ok := s.workflows[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	out := copyWorkflow(wf)
	return &out, nil
}

// GetByWebhookPath returns a copy of the workflow whose webhook has path.
func (s *WorkflowStore) GetByWebhookPath(ctx context.Context, path string) (*workflow.Workflow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, wf := range s.workflows {
		if wf.Webhook != nil && wf.Webhook.Path == path {
			out := copyWorkflow(wf)
			return &out, nil
		}
	}
	return nil, domain.ErrNotFound
}

// Update applies fn under the store's lock, which plays the row lock.
func (s *WorkflowStore) Update(ctx context.Context, id string, fn func(*workflow.Workflow) error, events ...audit.Event) (*workflow.Workflow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.workflows[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	next := copyWorkflow(cur)
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.OwnerID, next.CreatedAt = cur.ID, cur.OwnerID, cur.CreatedAt
	if next.Webhook != nil && s.pathTakenLocked(next.Webhook.Path, id) {
		return nil, domain.ErrConflict
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return nil, err
	}
	next = copyWorkflow(next)
	s.workflows[id] = next
	out := copyWorkflow(next)
	return &out, nil
}

// Delete removes the workflow with id and its executions.
func (s *WorkflowStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workflows[id]; !ok {
		return domain.ErrNotFound
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	s.deleteLocked(id)
	return nil
}

// deleteLocked removes the workflow id and its executions, as the
// executions' foreign key cascades. The caller holds s.mu.
func (s *WorkflowStore) deleteLocked(id string) {
	delete(s.workflows, id)
	for _, e := range s.executions[id] {
		delete(s.execIDs, e.ID)
	}
	delete(s.executions, id)
}

// List pages through workflows ordered by (CreatedAt, ID).
func (s *WorkflowStore) List(ctx context.Context, cursor string, limit int) ([]workflow.Workflow, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	all := make([]workflow.Workflow, 0, len(s.workflows))
	for _, wf := range s.workflows {
		all = append(all, copyWorkflow(wf))
	}
	s.mu.Unlock()
	return ascendingPage(all, cursor, limit, func(wf workflow.Workflow) pageKey { return pageKey{T: wf.CreatedAt, ID: wf.ID} })
}

// Executions returns the port.ExecutionStore over this store's workflows.
func (s *WorkflowStore) Executions() *ExecutionStore {
	return &ExecutionStore{s: s}
}

func copyExecution(e workflow.Execution) workflow.Execution {
	e.ReceivedAt = dbTime(e.ReceivedAt)
	e.Headers = maps.Clone(e.Headers)
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	e.Body = bytes.Clone(e.Body)
	return e
}
