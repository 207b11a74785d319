package users

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
)

// errUserNotFound is the 404 for an unknown user id.
var errUserNotFound = domain.ErrNotFound.WithMessage("User not found")

// Get returns the user with id.
func (s *Service) Get(ctx context.Context, id string) (*user.User, error) {
	u, err := s.Users.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, errUserNotFound
	}
	return u, err
}
