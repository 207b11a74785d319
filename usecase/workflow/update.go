package workflow

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
)

// Update replaces the workflow with id by in (PUT semantics; omitted
// webhook secrets keep the stored ones when the auth type is unchanged).
// Unknown is 404; someone else's workflow is 403 for editors, checked
// under the row lock, before the input is judged.
func (s *Service) Update(ctx context.Context, p principal.Principal, client principal.Client, id string, in Input) (*flow.Workflow, error) {
	if !p.Can(writePerm) {
		return nil, domain.ErrForbidden
	}
	var candidate *flow.Workflow
	// The event describes the workflow as fn leaves it; the store reads it
	// after fn returns.
	events := []audit.Event{s.event(audit.ActionWorkflowUpdate, audit.OutcomeSuccess, p, client, id)}
	wf, err := s.Store.Update(ctx, id, func(wf *flow.Workflow) error {
		if !flow.CanWrite(p, wf) {
			return errNotYours
		}
		if err := s.apply(wf, in); err != nil {
			return err
		}
		wf.UpdatedAt = s.Clock.Now().UTC()
		candidate = wf
		events[0] = describe(events[0], wf)
		return nil
	}, events...)
	switch {
	case errors.Is(err, errNotYours):
		s.record(ctx, s.event(audit.ActionWorkflowUpdate, audit.OutcomeDenied, p, client, id))
		return nil, err
	case err != nil && candidate != nil:
		return nil, conflictAsPathTaken(err, candidate)
	case err != nil:
		return nil, err
	}
	return wf, nil
}
