package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
)

// Bootstrap creates the configured first admin (security.bootstrap_admin)
// if, and only if, no user exists yet. It is safe when several instances
// start at once: they may all see an empty table, but the unique username
// lets one insert win, and the others' conflict is not an error. It reports
// whether it created the user. The password must pass the usual policy;
// the error names the setting, never its value.
func (s *Service) Bootstrap(ctx context.Context, username, password string) (bool, error) {
	n, err := s.Lister.Count(ctx)
	if err != nil {
		return false, fmt.Errorf("bootstrap admin: count users: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if password == "" {
		return false, errors.New("bootstrap admin: security.bootstrap_admin.password is required while no user exists (it may be removed once the admin has been created)")
	}
	u, err := s.newUser(ctx, CreateInput{Username: username, Password: password, Role: string(user.RoleAdmin)})
	if err != nil {
		var details []string
		for _, d := range domain.As(err).Details {
			details = append(details, "security.bootstrap_admin."+d.Field+" "+d.Message)
		}
		if len(details) > 0 {
			return false, fmt.Errorf("bootstrap admin: %s", strings.Join(details, "; "))
		}
		return false, fmt.Errorf("bootstrap admin: %w", err)
	}
	e := s.event(audit.ActionUserCreate, principal.Principal{Username: "bootstrap"}, principal.Client{}, u.ID)
	e.Metadata = withEntry(e.Metadata, "username", u.Username, "role", string(u.Role), "source", "security.bootstrap_admin")
	if err := s.Users.Create(ctx, u, e); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return false, nil // another instance won the race
		}
		return false, fmt.Errorf("bootstrap admin: create: %w", err)
	}
	return true, nil
}
