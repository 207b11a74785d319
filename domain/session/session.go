// Package session models login sessions and the claims of the access tokens
// that represent them. A session (sid) outlives each token: refresh replaces
// the token, never the session.
package session

import (
	"time"

	"github.com/m9m/auth/domain/user"
)

// Claims are the facts an access token asserts, independent of its encoding.
//
// Role and Username travel in the token (private claims "role" and
// "username") so that authenticating a request needs no database query.
// They cannot go stale: usernames never change, and every role change,
// disable or delete ends all of the user's sessions in the denylist at once,
// so a token only ever carries its user's current role.
type Claims struct {
	TokenID   string    // jti, ≥128 random bits
	SessionID string    // sid
	UserID    string    // sub
	Username  string    // private claim "username"
	Role      user.Role // private claim "role"
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// Session is one login: created by login, extended by refresh, ended by
// logout, password change, user deactivation or explicit revocation.
type Session struct {
	ID              string
	UserID          string
	CreatedAt       time.Time
	LastRefreshedAt time.Time
	IP              string
	UserAgent       string
	EndedAt         *time.Time
}

// Active reports whether the session has not been ended.
func (s Session) Active() bool { return s.EndedAt == nil }
