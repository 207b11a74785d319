package port

import "github.com/m9m/auth/domain/session"

// TokenIssuer signs access tokens.
type TokenIssuer interface {
	Issue(claims session.Claims) (string, error)
}

// TokenVerifier checks an access token's signature, algorithm, type, issuer,
// audience and time claims. Every failure is domain.ErrUnauthenticated; it
// never touches the network (revocation is the TokenDenylist's job).
type TokenVerifier interface {
	Verify(token string) (session.Claims, error)
}
