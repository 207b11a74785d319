package apikey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// CreateInput is what a caller asks for when creating a key.
type CreateInput struct {
	// Name tells the owner's keys apart: 1–100 characters after trimming.
	Name string
	// ExpiresAt, when set, must be in the future; nil never expires.
	ExpiresAt *time.Time
	// Scopes narrow the key: known permissions that the owner's role grants.
	// Empty means all of the role's permissions.
	Scopes []string
}

// Create issues a key owned by the caller and returns it, the one time the
// key is ever shown. API-key callers are refused (a leaked key must not mint
// more), so are callers without a user account; the scopes may not exceed
// the owner's role; an owner at security.api_keys.max_per_user active keys
// gets 409.
func (s *Service) Create(ctx context.Context, p principal.Principal, client principal.Client, in CreateInput) (Issued, error) {
	if p.Method == principal.MethodAPIKey {
		return Issued{}, errKeyMintsKey
	}
	if p.UserID == "" {
		return Issued{}, errNoOwner
	}
	owner, err := s.Users.Get(ctx, p.UserID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return Issued{}, domain.ErrUnauthenticated
	case err != nil:
		return Issued{}, err
	case owner.Disabled:
		return Issued{}, domain.ErrUnauthenticated
	}
	now := s.now()
	template, err := validateCreate(in, owner.Role, now)
	if err != nil {
		return Issued{}, err
	}
	template.OwnerID = owner.ID
	issued, err := s.mint(template, now)
	if err != nil {
		return Issued{}, err
	}
	e := s.event(audit.ActionAPIKeyCreate, audit.OutcomeSuccess, p, client, issued.Key.ID)
	e.Metadata["prefix"] = issued.Key.Prefix
	e.Metadata["scopes"] = joinScopes(issued.Key.Scopes)
	if err := s.Keys.Create(ctx, issued.Key, s.settings.MaxPerUser, e); err != nil {
		if errors.Is(err, port.ErrKeyLimit) {
			return Issued{}, domain.ErrConflict.WithMessage(fmt.Sprintf(
				"You already hold the maximum of %d active API keys; revoke one first", s.settings.MaxPerUser))
		}
		return Issued{}, err
	}
	return issued, nil
}

// validateCreate checks every field at once and returns the key template.
func validateCreate(in CreateInput, role user.Role, now time.Time) (ak.Key, error) {
	var problems []domain.FieldError
	if err := ak.ValidateName(in.Name); err != nil {
		problems = append(problems, domain.As(err).Details...)
	}
	scopes, err := ak.ValidateScopes(in.Scopes, role)
	if err != nil {
		problems = append(problems, domain.As(err).Details...)
	}
	var expires *time.Time
	if in.ExpiresAt != nil {
		t := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !t.After(now) {
			problems = append(problems, domain.FieldError{Field: "expiresAt", Message: "must be in the future"})
		}
		expires = &t
	}
	if len(problems) > 0 {
		return ak.Key{}, domain.Invalid(problems...)
	}
	return ak.Key{Name: strings.TrimSpace(in.Name), Scopes: scopes, ExpiresAt: expires}, nil
}

// now is the clock's time at the precision the store keeps, so what a
// create answers is exactly what a later list shows.
func (s *Service) now() time.Time {
	return s.Clock.Now().UTC().Truncate(time.Microsecond)
}

func joinScopes(scopes []user.Permission) string {
	parts := make([]string, len(scopes))
	for i, p := range scopes {
		parts[i] = string(p)
	}
	return strings.Join(parts, ",")
}
