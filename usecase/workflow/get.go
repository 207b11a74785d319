package workflow

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	flow "github.com/m9m/auth/domain/workflow"
)

const (
	readPerm  = user.PermWorkflowsRead
	writePerm = user.PermWorkflowsWrite
)

// Get returns the workflow with id if p may read it. Unknown is 404.
func (s *Service) Get(ctx context.Context, p principal.Principal, id string) (*flow.Workflow, error) {
	wf, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !flow.CanRead(p, wf) {
		return nil, domain.ErrForbidden
	}
	return wf, nil
}
