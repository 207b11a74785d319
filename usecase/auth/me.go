package auth

import (
	"slices"

	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
)

// MeResult describes the caller as the request authenticated them.
type MeResult struct {
	UserID      string
	Username    string
	Role        user.Role
	Method      principal.Method
	Permissions []user.Permission
}

// Me answers "who am I" from the Principal alone: no store is read, so a
// JWT-authenticated call costs exactly the authenticator's one Redis round
// trip. The Principal is current: a role change ends the user's sessions.
func (s *Service) Me(p principal.Principal) MeResult {
	perms := slices.Clone(p.Permissions)
	if perms == nil {
		perms = []user.Permission{}
	}
	return MeResult{
		UserID:      p.UserID,
		Username:    p.Username,
		Role:        p.Role,
		Method:      p.Method,
		Permissions: perms,
	}
}
