package workflow

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
)

// Delete removes the workflow with id, its webhook and its executions.
// Unknown is 404; someone else's workflow is 403 for editors. The owner
// never changes, so checking it before deleting is not racy.
func (s *Service) Delete(ctx context.Context, p principal.Principal, client principal.Client, id string) error {
	if !p.Can(writePerm) {
		return domain.ErrForbidden
	}
	wf, err := s.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	if !flow.CanWrite(p, wf) {
		s.record(ctx, s.event(audit.ActionWorkflowDelete, audit.OutcomeDenied, p, client, id))
		return errNotYours
	}
	return s.Store.Delete(ctx, id, describe(s.event(audit.ActionWorkflowDelete, audit.OutcomeSuccess, p, client, id), wf))
}
