package auth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.addUser(t, "alice", user.RoleAdmin, goodPW)
	res := f.login(t, "alice", goodPW)
	p := f.principal(t, res.Token.Token)
	want := principal.Principal{
		UserID: u.ID, Username: "alice", Role: user.RoleAdmin, Method: principal.MethodJWT,
		SessionID: res.SessionID, TokenExpiry: res.ExpiresAt, IssuedAt: t0,
	}
	if p.UserID != want.UserID || p.Username != want.Username || p.Role != want.Role || p.Method != want.Method ||
		p.SessionID != want.SessionID || !p.TokenExpiry.Equal(want.TokenExpiry) || !p.IssuedAt.Equal(want.IssuedAt) || p.TokenID == "" {
		t.Fatalf("principal = %+v", p)
	}
	if len(p.Permissions) != len(user.AllPermissions) {
		t.Fatalf("permissions = %v", p.Permissions)
	}
}

func TestAuthenticateRefusals(t *testing.T) {
	t.Parallel()
	issue := func(t *testing.T, f *fixture, mut func(*session.Claims)) string {
		c := session.Claims{
			TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(),
			Username: "zed", Role: user.RoleViewer, IssuedAt: f.clock.Now(), ExpiresAt: f.clock.Now().Add(time.Hour),
		}
		mut(&c)
		tok, err := f.tokens.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name string
		cred func(t *testing.T, f *fixture) authn.Credential
	}{
		{"not a bearer credential", func(*testing.T, *fixture) authn.Credential {
			return authn.Credential{Kind: authn.KindAPIKey, Secret: "m9m_sk_x"}
		}},
		{"empty", func(*testing.T, *fixture) authn.Credential { return authn.Credential{Kind: authn.KindBearer} }},
		{"garbage", func(*testing.T, *fixture) authn.Credential {
			return authn.Credential{Kind: authn.KindBearer, Secret: "a.b.c"}
		}},
		{"unknown role", func(t *testing.T, f *fixture) authn.Credential {
			return bearer(issue(t, f, func(c *session.Claims) { c.Role = "root" }))
		}},
		{"no username", func(t *testing.T, f *fixture) authn.Credential {
			return bearer(issue(t, f, func(c *session.Claims) { c.Username = "" }))
		}},
		{"expired beyond leeway", func(t *testing.T, f *fixture) authn.Credential {
			tok := issue(t, f, func(*session.Claims) {})
			f.clock.Advance(time.Hour + 31*time.Second)
			return bearer(tok)
		}},
		{"not yet valid beyond leeway", func(t *testing.T, f *fixture) authn.Credential {
			return bearer(issue(t, f, func(c *session.Claims) {
				c.NotBefore = f.clock.Now().Add(time.Minute)
			}))
		}},
		{"session denied", func(t *testing.T, f *fixture) authn.Credential {
			tok := issue(t, f, func(c *session.Claims) { c.SessionID = "sid-denied" })
			if err := f.deny.DenySession(context.Background(), "sid-denied", f.clock.Now().Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			return bearer(tok)
		}},
		{"user cut off", func(t *testing.T, f *fixture) authn.Credential {
			tok := issue(t, f, func(c *session.Claims) { c.UserID = "user-cut" })
			if err := f.deny.DenyUserBefore(context.Background(), "user-cut", f.clock.Now().Add(time.Second), f.clock.Now().Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			return bearer(tok)
		}},
		{"tampered payload", func(t *testing.T, f *fixture) authn.Credential {
			tok := issue(t, f, func(*session.Claims) {})
			parts := strings.Split(tok, ".")
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			forged := strings.Replace(string(payload), `"role":"viewer"`, `"role":"admin"`, 1)
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
			return bearer(strings.Join(parts, "."))
		}},
		{"alg none", func(t *testing.T, f *fixture) authn.Credential {
			tok := issue(t, f, func(*session.Claims) {})
			parts := strings.Split(tok, ".")
			hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
			return bearer(hdr + "." + parts[1] + ".")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			_, err := f.authn.Authenticate(context.Background(), tt.cred(t, f), client)
			wantErr(t, err, domain.ErrUnauthenticated)
		})
	}
}

func bearer(tok string) authn.Credential {
	return authn.Credential{Kind: authn.KindBearer, Secret: tok}
}

func TestAuthenticateDenylistDownIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "bob", user.RoleViewer, goodPW)
	tok := f.login(t, "bob", goodPW).Token.Token
	a := auth.NewAuthenticator(f.tokens, failingDenylist{})
	_, err := a.Authenticate(context.Background(), bearer(tok), client)
	wantErr(t, err, domain.ErrUnavailable)
}

// FuzzBearerAuthenticate feeds arbitrary bearer tokens through the
// authenticator: it must never panic, never fail with anything but 401
// (the denylist here is healthy), and accept nothing but the one token
// the server really issued.
func FuzzBearerAuthenticate(fz *testing.F) {
	f := newFuzzFixture(fz)
	valid := f.valid
	parts := strings.Split(valid, ".")
	fz.Add(valid)
	fz.Add("")
	fz.Add("a.b.c")
	fz.Add(parts[0] + "." + parts[1] + ".")
	fz.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + ".")
	fz.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS512","typ":"at+jwt"}`)) + "." + parts[1] + "." + parts[2])
	fz.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"at+jwt","jku":"http://127.0.0.1:1/jwks"}`)) + "." + parts[1] + "." + parts[2])
	fz.Add(valid + "=")
	fz.Add(valid + "\n")
	fz.Add(strings.ToUpper(valid))
	fz.Add(strings.Repeat("A", 9000))
	fz.Fuzz(func(t *testing.T, tok string) {
		p, err := f.authn.Authenticate(context.Background(), bearer(tok), client)
		if err != nil {
			if !domainIs(err, domain.ErrUnauthenticated) {
				t.Fatalf("token %q: error %v, want 401", tok, err)
			}
			return
		}
		if tok != valid || p.UserID != f.userID {
			t.Fatalf("accepted a token the server did not issue: %q → %+v", tok, p)
		}
	})
}

type fuzzFixture struct {
	*fixture
	valid  string
	userID string
}

// newFuzzFixture issues one token with fixed claims: fuzz workers are
// separate processes, and each must agree on which token is the valid one
// (HS256 with a fixed key and a fixed clock is deterministic).
func newFuzzFixture(fz *testing.F) *fuzzFixture {
	fz.Helper()
	f := newFixture(fz)
	const userID = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
	tok, err := f.tokens.Issue(session.Claims{
		TokenID: "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a", SessionID: "2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b",
		UserID: userID, Username: "fuzz", Role: user.RoleViewer, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	if err != nil {
		fz.Fatal(err)
	}
	return &fuzzFixture{fixture: f, valid: tok, userID: userID}
}
