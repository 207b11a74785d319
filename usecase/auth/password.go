package auth

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// ChangePasswordInput is the caller's current and new password.
type ChangePasswordInput struct {
	CurrentPassword string
	NewPassword     string
	Client          principal.Client
}

// errWrongCurrentPassword is a 400 naming the field, not a 401: the caller's
// token is fine, and a 401 would make clients think they were logged out.
var errWrongCurrentPassword = domain.InvalidField("currentPassword", "does not match the current password")

// ChangePassword replaces the caller's password after checking the current
// one, and ends every other session of the user at once; the caller's own
// session (and token) keeps working. Checking the current password is a
// password oracle for whoever holds a stolen token, so it is throttled like
// a login (same counters). Session tokens only: API keys and the basic
// credential get 403.
func (s *Service) ChangePassword(ctx context.Context, p principal.Principal, in ChangePasswordInput) error {
	if err := requireJWT(p); err != nil {
		return err
	}
	if err := validatePasswordChange(in); err != nil {
		return err
	}
	u, err := s.Users.Get(ctx, p.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrUnauthenticated // deleted while the token was in flight
	}
	if err != nil {
		return unavailableOr("users", err)
	}
	if err := s.checkCurrentPassword(ctx, u, in); err != nil {
		return err
	}
	encoded, err := s.Hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return err
	}
	e := s.actorEvent(audit.ActionPasswordChange, audit.OutcomeSuccess, p, in.Client)
	e.TargetType, e.TargetID = "user", u.ID
	return s.revoker.EndSessionsAround(ctx, u.ID, p.SessionID, func(ctx context.Context) error {
		_, err := s.Users.Update(ctx, u.ID, func(cur *user.User) error {
			cur.PasswordHash = encoded
			cur.UpdatedAt = s.Clock.Now()
			return nil
		}, e)
		return unavailableOr("users", err)
	})
}

func validatePasswordChange(in ChangePasswordInput) error {
	var details []domain.FieldError
	if in.CurrentPassword == "" {
		details = append(details, domain.FieldError{Field: "currentPassword", Message: "is required"})
	}
	if err := user.ValidatePassword(in.NewPassword); err != nil {
		for _, d := range domain.As(err).Details {
			details = append(details, domain.FieldError{Field: "newPassword", Message: d.Message})
		}
	}
	if len(details) > 0 {
		return domain.Invalid(details...)
	}
	return nil
}

// checkCurrentPassword verifies the current password under the login
// throttle: the attempt is counted first and forgiven on success.
func (s *Service) checkCurrentPassword(ctx context.Context, u *user.User, in ChangePasswordInput) error {
	name := user.NormalizeUsername(u.Username)
	if err := s.reserveAttempt(ctx, name, in.Client); err != nil {
		return err
	}
	ok, _, err := s.Hasher.Verify(ctx, in.CurrentPassword, u.PasswordHash)
	if err != nil {
		s.releaseAttempt(ctx, name, in.Client)
		return err
	}
	if !ok || u.Disabled {
		e := s.event(audit.ActionPasswordChange, audit.OutcomeFailure, in.Client)
		e.ActorID, e.ActorName, e.TargetType, e.TargetID = u.ID, u.Username, "user", u.ID
		s.record(ctx, withMeta(e, "reason", "wrong current password"))
		return errWrongCurrentPassword
	}
	if err := s.Throttle.Forgive(ctx, port.NewLoginAttempt(name, in.Client)); err != nil {
		return unavailableOr("throttle", err)
	}
	return nil
}
