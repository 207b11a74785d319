package users

import (
	"context"
	"errors"
	"strconv"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
)

// UpdateInput is a partial update: nil fields are left alone.
type UpdateInput struct {
	Role     *string
	Disabled *bool
	Password *string
}

// Update changes a user's role, disabled flag or password. A role change, a
// disable or a new password ends all of the user's sessions at once (a new
// password set by an admin is a reset, usually after a compromise); a
// disable also denies every token issued up to now. Re-enabling changes
// nothing else. An admin cannot change their own role or disable
// themselves (409), so the last admin cannot lock everyone out by accident.
// A role or disabled change is then invalidated in every instance's API-key
// cache (the user's keys narrow, stop, or work again); if that fails the
// answer is 503 although the change is committed.
func (s *Service) Update(ctx context.Context, p principal.Principal, client principal.Client, id string, in UpdateInput) (*user.User, error) {
	role, hash, err := s.validateUpdate(ctx, in)
	if err != nil {
		return nil, err
	}
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	roleChanged := in.Role != nil && role != cur.Role
	disabling := in.Disabled != nil && *in.Disabled
	if id == p.UserID && (roleChanged || disabling) {
		return nil, errSelf
	}
	var updated *user.User
	var wrote written
	e := s.updateEvent(p, client, id, in)
	change := func(ctx context.Context) error {
		updated, err = s.Users.Update(ctx, id, func(u *user.User) error {
			if in.Role != nil {
				u.Role = role
			}
			if in.Disabled != nil {
				u.Disabled = *in.Disabled
			}
			if in.Password != nil {
				u.PasswordHash = hash
			}
			u.UpdatedAt = s.Clock.Now()
			return nil
		}, e)
		wrote.note(err)
		if errors.Is(err, domain.ErrNotFound) {
			return errUserNotFound
		}
		return err
	}
	if roleChanged || disabling || in.Password != nil {
		err = s.Revoker.EndSessionsAround(ctx, id, "", change)
		if err == nil && disabling {
			err = s.Revoker.CutOff(ctx, id)
		}
	} else {
		err = change(ctx)
	}
	// The role and the disabled flag are in every cached grant of the
	// user's keys (a re-enabled user's keys must work again as well); the
	// password is not.
	if wrote.maybe && (in.Role != nil || in.Disabled != nil) {
		if ierr := s.invalidateOwner(ctx, id); err == nil {
			err = ierr
		}
	}
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// validateUpdate checks in and hashes a new password; every invalid field
// is reported at once.
func (s *Service) validateUpdate(ctx context.Context, in UpdateInput) (user.Role, string, error) {
	if in.Role == nil && in.Disabled == nil && in.Password == nil {
		return "", "", domain.InvalidField("body", "set at least one of role, disabled, password")
	}
	var details []domain.FieldError
	var role user.Role
	if in.Role != nil {
		role = user.Role(*in.Role)
		if !role.Valid() {
			details = append(details, domain.FieldError{Field: "role", Message: "must be one of admin, editor, viewer"})
		}
	}
	if in.Password != nil {
		if err := user.ValidatePassword(*in.Password); err != nil {
			details = append(details, domain.As(renameField(err, "password")).Details...)
		}
	}
	if len(details) > 0 {
		return "", "", domain.Invalid(details...)
	}
	var hash string
	if in.Password != nil {
		var err error
		if hash, err = s.Hasher.Hash(ctx, *in.Password); err != nil {
			return "", "", err
		}
	}
	return role, hash, nil
}

// updateEvent records which fields changed (never the password itself).
func (s *Service) updateEvent(p principal.Principal, client principal.Client, id string, in UpdateInput) audit.Event {
	e := s.event(audit.ActionUserUpdate, p, client, id)
	if in.Role != nil {
		e.Metadata = withEntry(e.Metadata, "role", *in.Role)
	}
	if in.Disabled != nil {
		e.Metadata = withEntry(e.Metadata, "disabled", strconv.FormatBool(*in.Disabled))
	}
	if in.Password != nil {
		e.Metadata = withEntry(e.Metadata, "password", "reset")
	}
	return e
}
