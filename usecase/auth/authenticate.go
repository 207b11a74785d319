package auth

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

// Authenticator is the Bearer authenticator of the authn chain. It is the
// hot path of every JWT request, so it does exactly this: verify the token
// (CPU only), then one denylist round trip (jti, sid and the user's
// not-before in one MGET), then build the Principal from the token's own
// claims. It never reads Postgres.
//
// That is safe because the claims it trusts cannot go stale: usernames do
// not change, and a role change, disable or delete ends all of the user's
// sessions in the denylist, so a token that is still accepted carries its
// user's current role.
//
// With a RequestGate (rate limiting on), that one round trip also spends the
// caller's budget, and the Principal carries the decision (Budget), so the
// request still costs one round trip in all.
type Authenticator struct {
	verifier port.TokenVerifier
	denylist port.TokenDenylist
	gate     port.RequestGate // nil: check the denylist only
}

var _ authn.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns the Bearer authenticator.
func NewAuthenticator(verifier port.TokenVerifier, denylist port.TokenDenylist) *Authenticator {
	return &Authenticator{verifier: verifier, denylist: denylist}
}

// NewGatedAuthenticator returns the Bearer authenticator that checks
// revocation and spends the caller's budget in one gate call.
func NewGatedAuthenticator(verifier port.TokenVerifier, gate port.RequestGate) *Authenticator {
	return &Authenticator{verifier: verifier, gate: gate}
}

// Authenticate verifies a bearer credential (or the same token from the
// console's cookie). A bad, expired or revoked
// token is domain.ErrUnauthenticated; a denylist that cannot be reached is
// domain.ErrUnavailable (503: fail closed, never 401).
func (a *Authenticator) Authenticate(ctx context.Context, cred authn.Credential, _ principal.Client) (principal.Principal, error) {
	if (cred.Kind != authn.KindBearer && cred.Kind != authn.KindSession) || cred.Secret == "" {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	c, err := a.verifier.Verify(cred.Secret)
	if err != nil {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	if !c.Role.Valid() || c.Username == "" {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	p := principalOf(c)
	if a.gate == nil {
		if err := a.denylist.Check(ctx, c); err != nil {
			return principal.Principal{}, unavailableOr("denylist", err)
		}
		return p, nil
	}
	d, err := a.gate.CheckAndSpend(ctx, c, p.RateKey())
	if err != nil {
		return principal.Principal{}, unavailableOr("redis", err)
	}
	p.Budget = &principal.RateBudget{
		Allowed: d.Allowed, Limit: d.Limit, Remaining: d.Remaining, ResetAfter: d.ResetAfter, RetryAfter: d.RetryAfter,
	}
	return p, nil
}

// principalOf is the Principal a verified, unrevoked token stands for.
func principalOf(c session.Claims) principal.Principal {
	return principal.Principal{
		UserID:      c.UserID,
		Username:    c.Username,
		Role:        c.Role,
		Method:      principal.MethodJWT,
		Permissions: c.Role.Permissions(),
		SessionID:   c.SessionID,
		TokenID:     c.TokenID,
		TokenExpiry: c.ExpiresAt,
		IssuedAt:    c.IssuedAt,
	}
}
