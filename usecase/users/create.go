package users

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
)

// CreateInput describes a new user.
type CreateInput struct {
	Username string
	Password string
	Role     string
}

// errUsernameTaken is the 409 for a username another user holds (in any case).
var errUsernameTaken = domain.ErrConflict.WithMessage("Username already taken")

// Create adds a user. The username is stored normalized (lower case), the
// password only as a hash. Every invalid field is reported at once.
func (s *Service) Create(ctx context.Context, p principal.Principal, client principal.Client, in CreateInput) (*user.User, error) {
	u, err := s.newUser(ctx, in)
	if err != nil {
		return nil, err
	}
	e := s.event(audit.ActionUserCreate, p, client, u.ID)
	e.Metadata = withEntry(e.Metadata, "username", u.Username, "role", string(u.Role))
	if err := s.Users.Create(ctx, u, e); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return nil, errUsernameTaken
		}
		return nil, err
	}
	return u, nil
}

// newUser validates in and builds the user to store, password hashed.
func (s *Service) newUser(ctx context.Context, in CreateInput) (*user.User, error) {
	var details []domain.FieldError
	addErr := func(err error, field string) {
		if err != nil {
			details = append(details, domain.As(renameField(err, field)).Details...)
		}
	}
	addErr(user.ValidateUsername(in.Username), "username")
	addErr(user.ValidatePassword(in.Password), "password")
	role := user.Role(in.Role)
	if !role.Valid() {
		details = append(details, domain.FieldError{Field: "role", Message: "must be one of admin, editor, viewer"})
	}
	if len(details) > 0 {
		return nil, domain.Invalid(details...)
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	return &user.User{
		ID:           domain.NewID(),
		Username:     user.NormalizeUsername(in.Username),
		Role:         role,
		PasswordHash: hash,
		CreatedAt:    now,
		UpdatedAt:    now,
	}, nil
}

// withEntry adds key/value pairs to metadata m (allocating it if needed).
func withEntry(m map[string]string, kv ...string) map[string]string {
	if m == nil {
		m = make(map[string]string, len(kv)/2)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
