package workflow

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
)

// ExecutionPage is one page of deliveries and the cursor of the next.
type ExecutionPage struct {
	Executions []flow.Execution
	NextCursor string
}

// ListExecutions lists the deliveries of the workflow with id, newest first, to
// anyone who may read the workflow. Unknown workflow is 404.
func (s *Service) ListExecutions(ctx context.Context, p principal.Principal, id, cursor string, limit int) (*ExecutionPage, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	limit, err := checkPage(limit)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Executions.ListByWorkflow(ctx, id, cursor, limit)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []flow.Execution{}
	}
	return &ExecutionPage{Executions: list, NextCursor: next}, nil
}

// GetExecution returns one delivery of the workflow with id, body included
// (a list page omits bodies past its budget), to anyone who may read the
// workflow. Unknown workflow or delivery is 404.
func (s *Service) GetExecution(ctx context.Context, p principal.Principal, id, executionID string) (*flow.Execution, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	e, err := s.Executions.Get(ctx, id, executionID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.ErrNotFound.WithMessage("Execution not found")
	}
	return e, err
}
