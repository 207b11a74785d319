package users

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
)

// Page sizes of GET /api/v1/users.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// Page is one page of users and the cursor of the next ("" at the end).
type Page struct {
	Users      []user.User
	NextCursor string
}

// List pages through every user, oldest first. limit 0 means
// DefaultPageSize; cursor "" starts at the beginning.
func (s *Service) List(ctx context.Context, cursor string, limit int) (*Page, error) {
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, domain.InvalidField("limit", "must be between 1 and 100")
	}
	us, next, err := s.Lister.List(ctx, cursor, limit)
	if err != nil {
		return nil, err
	}
	if us == nil {
		us = []user.User{}
	}
	return &Page{Users: us, NextCursor: next}, nil
}
