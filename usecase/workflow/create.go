package workflow

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
)

// Create stores a new workflow owned by the caller. Admins and editors may
// create workflows (an API key needs workflows:write); viewers may not.
func (s *Service) Create(ctx context.Context, p principal.Principal, client principal.Client, in Input) (*flow.Workflow, error) {
	if !flow.CanCreate(p) {
		if p.UserID == "" && p.Can(writePerm) {
			return nil, errNoOwner
		}
		return nil, domain.ErrForbidden
	}
	now := s.Clock.Now().UTC()
	wf := &flow.Workflow{ID: domain.NewID(), OwnerID: p.UserID, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(wf, in); err != nil {
		return nil, err
	}
	e := describe(s.event(audit.ActionWorkflowCreate, audit.OutcomeSuccess, p, client, wf.ID), wf)
	if err := s.Store.Create(ctx, wf, e); err != nil {
		return nil, conflictAsPathTaken(err, wf)
	}
	return wf, nil
}

// conflictAsPathTaken names the one conflict a client can cause: a webhook
// path held by another workflow (IDs are fresh and random).
func conflictAsPathTaken(err error, wf *flow.Workflow) error {
	if errors.Is(err, domain.ErrConflict) && wf.Webhook != nil {
		return errPathTaken.Wrap(err)
	}
	return err
}
