package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// ExecutionStore is an in-process port.ExecutionStore. It lives inside a
// WorkflowStore (WorkflowStore.Executions) so that an execution can only
// belong to a stored workflow and goes when its workflow goes.
type ExecutionStore struct {
	s *WorkflowStore
}

var _ port.ExecutionStore = (*ExecutionStore)(nil)

// Create stores a copy of e.
func (x *ExecutionStore) Create(ctx context.Context, e *workflow.Execution) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if _, ok := x.s.workflows[e.WorkflowID]; !ok {
		return domain.ErrConflict.WithMessage("Resource is referenced by or refers to another resource")
	}
	if x.s.execIDs[e.ID] {
		return domain.ErrConflict
	}
	x.s.execIDs[e.ID] = true
	x.s.executions[e.WorkflowID] = append(x.s.executions[e.WorkflowID], copyExecution(*e))
	return nil
}

// ListByWorkflow pages through a workflow's executions, newest first.
func (x *ExecutionStore) ListByWorkflow(ctx context.Context, workflowID, cursor string, limit int) ([]workflow.Execution, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > port.MaxListLimit {
		return nil, "", domain.InvalidField("limit", "must be between 1 and 1000")
	}
	var before *pageKey
	if cursor != "" {
		k, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		before = &k
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	var all []workflow.Execution
	for _, e := range x.s.executions[workflowID] {
		// Descending order: the next page holds rows that sort before the cursor.
		if before == nil || sortsBefore(e.ReceivedAt, e.ID, *before) {
			all = append(all, e) // shares the body until the page is cut
		}
	}
	slices.SortFunc(all, func(a, b workflow.Execution) int {
		return -cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID))
	})
	next := ""
	if len(all) > limit {
		all = all[:limit]
		last := all[len(all)-1]
		next = encodeCursor(pageKey{T: last.ReceivedAt, ID: last.ID})
	}
	sizes := make([]int, len(all))
	for i, e := range all {
		sizes[i] = len(e.Body)
	}
	keep := port.FitBodies(sizes)
	for i, e := range all {
		if keep[i] {
			all[i] = copyExecution(e)
		} else {
			e.Body = nil
			all[i] = copyExecution(e)
			all[i].BodyOmitted = true
		}
	}
	return all, next, nil
}

// Get returns a copy of execution id of workflowID.
func (x *ExecutionStore) Get(ctx context.Context, workflowID, id string) (*workflow.Execution, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	for _, e := range x.s.executions[workflowID] {
		if e.ID == id {
			c := copyExecution(e)
			return &c, nil
		}
	}
	return nil, domain.ErrNotFound
}

// sortsBefore reports whether the row (t, id) sorts strictly before k.
func sortsBefore(t time.Time, id string, k pageKey) bool {
	if c := t.Compare(k.T); c != 0 {
		return c < 0
	}
	return id < k.ID
}

// Prune keeps the keep newest executions of workflowID.
func (x *ExecutionStore) Prune(ctx context.Context, workflowID string, keep int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	keep = max(keep, 0)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	list := x.s.executions[workflowID]
	if len(list) <= keep {
		return 0, nil
	}
	slices.SortFunc(list, func(a, b workflow.Execution) int {
		return -cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID))
	})
	deleted := len(list) - keep
	for _, e := range list[keep:] {
		delete(x.s.execIDs, e.ID)
	}
	x.s.executions[workflowID] = slices.Clone(list[:keep])
	return deleted, nil
}
