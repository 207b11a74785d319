package session

import (
	"time"

	"github.com/m9m/auth/domain"
)

// RevocationKind names what a Revocation denies.
type RevocationKind string

// The three kinds of revocation the token denylist enforces (contract §4).
const (
	// RevokeToken denies one token, by its jti.
	RevokeToken RevocationKind = "token"
	// RevokeSession denies every token of one session, by its sid.
	RevokeSession RevocationKind = "session"
	// RevokeUser denies every token of one user issued before NotBefore.
	RevokeUser RevocationKind = "user"
)

// Valid reports whether k is one of the three kinds.
func (k RevocationKind) Valid() bool {
	return k == RevokeToken || k == RevokeSession || k == RevokeUser
}

// Revocation is one entry of the durable record behind the token denylist:
// what it denies, and until when. Until is when every token it could deny
// has expired (their exp plus the verifier's leeway), so a revocation is
// worth keeping only while Until is in the future: the record of what can
// still be presented is bounded by the longest token lifetime.
type Revocation struct {
	Kind RevocationKind
	// ID is the jti (RevokeToken), the sid (RevokeSession) or the user ID
	// (RevokeUser).
	ID    string
	Until time.Time
	// NotBefore (RevokeUser only): tokens issued before it, compared in whole
	// seconds as TokenDenylist.Check does, are denied.
	NotBefore time.Time
	// Successor (RevokeToken only) names the token a refresh rotated this
	// one to (a digest of it, never the token itself), "" when the token was
	// revoked by a logout.
	Successor string
}

// Validate reports a revocation that could never be enforced: an unknown
// kind, an empty ID, or a successor on anything but a token.
func (r Revocation) Validate() error {
	switch {
	case !r.Kind.Valid():
		return domain.InvalidField("kind", "must be token, session or user")
	case r.ID == "":
		return domain.InvalidField("id", "is required")
	case r.Successor != "" && r.Kind != RevokeToken:
		return domain.InvalidField("successor", "only a token has a successor")
	}
	return nil
}
