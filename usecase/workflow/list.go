package workflow

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
)

// Page is one page of workflows and the cursor of the next ("" at the end).
type Page struct {
	Workflows  []flow.Workflow
	NextCursor string
}

// List pages through every workflow, oldest first: every role reads every
// workflow. limit 0 means DefaultPageSize; cursor "" starts at the beginning.
func (s *Service) List(ctx context.Context, p principal.Principal, cursor string, limit int) (*Page, error) {
	if !p.Can(readPerm) {
		return nil, domain.ErrForbidden
	}
	limit, err := checkPage(limit)
	if err != nil {
		return nil, err
	}
	wfs, next, err := s.Lister.List(ctx, cursor, limit)
	if err != nil {
		return nil, err
	}
	if wfs == nil {
		wfs = []flow.Workflow{}
	}
	return &Page{Workflows: wfs, NextCursor: next}, nil
}
