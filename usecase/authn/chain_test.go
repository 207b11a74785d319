package authn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/usecase/authn"
)

// TestChainSessionCookieIsTheBearerMarkedSession: the console's cookie is
// verified by the Bearer authenticator, exactly as the header would be,
// and the principal says it came from the cookie; with JWT disabled the
// cookie is refused like the header.
func TestChainSessionCookieIsTheBearerMarkedSession(t *testing.T) {
	t.Parallel()
	var seen []authn.Kind
	bearer := authn.AuthenticatorFunc(func(_ context.Context, c authn.Credential, _ principal.Client) (principal.Principal, error) {
		seen = append(seen, c.Kind)
		if c.Secret != "good" {
			return principal.Principal{}, domain.ErrUnauthenticated
		}
		return principal.Principal{UserID: "u1", Method: principal.MethodJWT, SessionID: "s1", TokenID: "t1"}, nil
	})
	chain := &authn.Chain{Bearer: bearer}
	ctx := context.Background()

	p, err := chain.Authenticate(ctx, authn.Credential{Kind: authn.KindSession, Secret: "good"}, principal.Client{})
	if err != nil || p.Method != principal.MethodSession || !p.HasSession() {
		t.Fatalf("cookie: %+v, %v; want a session principal", p, err)
	}
	p, err = chain.Authenticate(ctx, authn.Credential{Kind: authn.KindBearer, Secret: "good"}, principal.Client{})
	if err != nil || p.Method != principal.MethodJWT || !p.HasSession() {
		t.Fatalf("header: %+v, %v; want a jwt principal", p, err)
	}
	if _, err := chain.Authenticate(ctx, authn.Credential{Kind: authn.KindSession, Secret: "bad"}, principal.Client{}); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("bad cookie: %v, want 401", err)
	}
	if len(seen) != 3 || seen[0] != authn.KindSession {
		t.Fatalf("the bearer authenticator saw %v", seen)
	}
	if _, err := (&authn.Chain{}).Authenticate(ctx, authn.Credential{Kind: authn.KindSession, Secret: "good"}, principal.Client{}); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("cookie with JWT disabled: %v, want 401", err)
	}
	if s := (authn.Credential{Kind: authn.KindSession, Secret: "good"}).String(); s != "Session [REDACTED]" {
		t.Fatalf("String() = %q", s)
	}
}
