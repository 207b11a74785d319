// Package principal describes who is making a request, however they proved it.
// Every authenticator (JWT, API key, basic) produces one Principal; handlers
// and use cases only ever see this type, never the raw credential.
package principal

import (
	"slices"
	"time"

	"github.com/m9m/auth/domain/user"
)

// Method names how the caller authenticated; its values are the contract's
// `authMethod` strings.
type Method string

// The authentication methods of the contract (§3).
const (
	MethodJWT    Method = "jwt"
	MethodAPIKey Method = "api_key"
	MethodBasic  Method = "basic"
	// MethodSession is a session token carried by the browser console's
	// httpOnly cookie instead of the Authorization header (contract §4a).
	MethodSession Method = "session"
)

// Principal is an authenticated caller.
type Principal struct {
	UserID   string
	Username string
	Role     user.Role
	Method   Method
	// Permissions are the effective permissions for this request: the role's,
	// narrowed by an API key's scopes.
	Permissions []user.Permission

	// Set for JWT callers.
	SessionID   string
	TokenID     string
	TokenExpiry time.Time
	IssuedAt    time.Time

	// Set for API-key callers.
	KeyID string

	// Budget is set by an authenticator that already spent the caller's
	// rate budget (in the same round trip as its revocation check); the
	// edge then uses it instead of spending again. Nil otherwise.
	Budget *RateBudget
}

// Can reports whether the principal holds permission p.
func (p Principal) Can(perm user.Permission) bool {
	return slices.Contains(p.Permissions, perm)
}

// ManagesOthers reports whether the principal may act on other users'
// resources (their API keys, workflows and sessions): users:manage in its
// effective permissions. This is the one place that decides it, and the
// role alone never does: an admin's API key scoped to api_keys:manage
// manages only its owner's keys (contract §5).
func (p Principal) ManagesOthers() bool { return p.Can(user.PermUsersManage) }

// HasSession reports whether the principal authenticated with a session
// credential (a JWT; the console's cookie carries the same session), not
// an API key or basic auth.
func (p Principal) HasSession() bool { return p.SessionID != "" }

// RateKey identifies the caller's shared rate-limit budget: the API key for
// key callers (each integration gets its own budget), the user otherwise.
func (p Principal) RateKey() string {
	if p.Method == MethodAPIKey && p.KeyID != "" {
		return "key:" + p.KeyID
	}
	if p.UserID != "" {
		return "user:" + p.UserID
	}
	return "user-name:" + p.Username
}
