// Package session models login sessions and the claims of the access tokens
// that represent them. A session (sid) outlives each token: refresh replaces
// the token, never the session.
package session

import "time"

// Claims are the facts an access token asserts, independent of its encoding.
type Claims struct {
	TokenID   string // jti, ≥128 random bits
	SessionID string // sid
	UserID    string // sub
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
