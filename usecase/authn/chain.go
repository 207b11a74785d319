// Package authn turns a presented credential into a Principal. The HTTP
// adapter parses headers into a Credential; the Chain hands it to the one
// authenticator for its kind. There is no fallback between methods: a bad
// credential is a 401 even if another method would have worked (contract §3).
package authn

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
)

// Kind is the credential scheme presented by the caller.
type Kind int

// Credential kinds in the order the contract tries them.
const (
	KindNone Kind = iota
	KindBearer
	KindAPIKey
	KindBasic
	// KindSession is a session token from the console's cookie, read only
	// when the request presents no other credential (contract §4a). It is
	// verified exactly as a bearer token; the principal is marked
	// MethodSession.
	KindSession
)

// Credential is a credential as presented, not yet verified. Its String
// method never prints the secret parts, so it is safe in logs by accident.
type Credential struct {
	Kind     Kind
	Secret   string // bearer or session token, or API key
	Username string // basic
	Password string // basic
}

// String redacts the secret parts.
func (c Credential) String() string {
	switch c.Kind {
	case KindBearer:
		return "Bearer [REDACTED]"
	case KindAPIKey:
		return "APIKey [REDACTED]"
	case KindBasic:
		return "Basic [REDACTED]"
	case KindSession:
		return "Session [REDACTED]"
	default:
		return "none"
	}
}

// GoString redacts too, so %#v is safe.
func (c Credential) GoString() string { return c.String() }

// Authenticator verifies one kind of credential.
type Authenticator interface {
	Authenticate(ctx context.Context, cred Credential, client principal.Client) (principal.Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, cred Credential, client principal.Client) (principal.Principal, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, cred Credential, client principal.Client) (principal.Principal, error) {
	return f(ctx, cred, client)
}

// Chain dispatches a credential to the authenticator of its kind. A nil
// authenticator means that method is disabled: its credentials get 401.
type Chain struct {
	Bearer Authenticator
	APIKey Authenticator
	Basic  Authenticator
}

// Authenticate verifies cred with the authenticator for its kind.
func (c *Chain) Authenticate(ctx context.Context, cred Credential, client principal.Client) (principal.Principal, error) {
	var a Authenticator
	switch cred.Kind {
	case KindBearer, KindSession:
		a = c.Bearer
	case KindAPIKey:
		a = c.APIKey
	case KindBasic:
		a = c.Basic
	}
	if a == nil {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	p, err := a.Authenticate(ctx, cred, client)
	if err == nil && cred.Kind == KindSession {
		p.Method = principal.MethodSession
	}
	return p, err
}

// BasicEnabled reports whether basic credentials are accepted, which decides
// whether 401 answers also offer the Basic challenge.
func (c *Chain) BasicEnabled() bool { return c.Basic != nil }
