package memory

import (
	"context"
	"fmt"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserRemover is the in-process port.UserRemover over a UserStore and a
// WorkflowStore. Building it links the two stores as the Postgres foreign
// key does: from then on a workflow's owner must exist, and a user who owns
// workflows cannot be deleted by UserStore.Delete. Remove holds both
// stores' locks (users first, as everywhere), which plays the transaction.
type UserRemover struct {
	users     *UserStore
	workflows *WorkflowStore
}

var _ port.UserRemover = (*UserRemover)(nil)

// NewUserRemover links users and workflows and returns their remover. Call
// it before the stores are used.
func NewUserRemover(users *UserStore, workflows *WorkflowStore) *UserRemover {
	users.workflows = workflows
	workflows.owners = users
	return &UserRemover{users: users, workflows: workflows}
}

// ownedBy counts the workflows of owner.
func (s *WorkflowStore) ownedBy(owner string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, wf := range s.workflows {
		if wf.OwnerID == owner {
			n++
		}
	}
	return n
}

// OwnedWorkflows counts the workflows userID owns.
func (r *UserRemover) OwnedWorkflows(ctx context.Context, userID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return r.workflows.ownedBy(userID), nil
}

// Remove deletes rm.UserID with the fate of their workflows, atomically.
func (r *UserRemover) Remove(ctx context.Context, rm port.UserRemoval) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.users.mu.Lock()
	defer r.users.mu.Unlock()
	if _, ok := r.users.users[rm.UserID]; !ok {
		return 0, domain.ErrNotFound
	}
	var target *user.User
	if t, ok := r.users.users[rm.TransferTo]; ok && rm.TransferTo != rm.UserID {
		target = &t
	}
	w := r.workflows
	w.mu.Lock()
	defer w.mu.Unlock()
	var owned []string
	for id, wf := range w.workflows {
		if wf.OwnerID == rm.UserID {
			owned = append(owned, id)
		}
	}
	if rm.Check != nil {
		if err := rm.Check(len(owned), target); err != nil {
			return 0, err
		}
	}
	switch {
	case rm.TransferTo != "" && target == nil:
		return 0, domain.ErrNotFound.WithMessage("Transfer target not found")
	case rm.TransferTo == "" && !rm.DeleteWorkflows && len(owned) > 0:
		return 0, domain.ErrConflict.WithMessage(fmt.Sprintf("User owns %d workflows", len(owned))).Wrap(port.ErrOwnsWorkflows)
	}
	// Every check is done: store the events (in the user store's audit
	// store), then apply the change, which cannot fail, so the two are
	// atomic.
	if err := r.users.appendLocked(ctx, rm.Events); err != nil {
		return 0, err
	}
	for _, id := range owned {
		if rm.TransferTo != "" {
			wf := w.workflows[id]
			wf.OwnerID, wf.UpdatedAt = rm.TransferTo, dbTime(rm.At)
			w.workflows[id] = wf
		} else {
			w.deleteLocked(id)
		}
	}
	delete(r.users.users, rm.UserID)
	return len(owned), nil
}
