package users

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
)

// Delete removes a user and cuts off their tokens at once: their sessions
// are denied before the row goes (with it, by cascade, the session rows and
// API keys), and every token issued up to now is denied after. An admin
// cannot delete their own account (409).
func (s *Service) Delete(ctx context.Context, p principal.Principal, client principal.Client, id string) error {
	if id == p.UserID {
		return errSelf
	}
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	e := s.event(audit.ActionUserDelete, p, client, id)
	err := s.Revoker.EndSessionsAround(ctx, id, "", func(ctx context.Context) error {
		err := s.Users.Delete(ctx, id, e)
		if errors.Is(err, domain.ErrNotFound) {
			return errUserNotFound
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.Revoker.CutOff(ctx, id)
}
