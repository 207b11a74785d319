package authn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/authn"
)

// The chain sits in front of every protected request; its own share (the
// dispatch to one authenticator, with no fallback) should be a few
// nanoseconds and no allocation, so whatever the authenticators cost is all
// there is. The authenticators here answer from memory.
//
//	go test -run '^$' -bench Chain -benchmem ./usecase/authn/

func benchChain() *authn.Chain {
	ok := func(m principal.Method) authn.Authenticator {
		p := principal.Principal{UserID: "u1", Username: "admin", Role: user.RoleAdmin, Method: m, Permissions: user.RoleAdmin.Permissions()}
		return authn.AuthenticatorFunc(func(context.Context, authn.Credential, principal.Client) (principal.Principal, error) {
			return p, nil
		})
	}
	return &authn.Chain{Bearer: ok(principal.MethodJWT), APIKey: ok(principal.MethodAPIKey)}
}

func BenchmarkChain(b *testing.B) {
	chain := benchChain()
	client := principal.Client{IP: "127.0.0.1", UserAgent: "m9m-load/1", RequestID: "r1"}
	for _, tc := range []struct {
		name    string
		cred    authn.Credential
		wantErr error
	}{
		{"bearer", authn.Credential{Kind: authn.KindBearer, Secret: "t"}, nil},
		{"api_key", authn.Credential{Kind: authn.KindAPIKey, Secret: "k"}, nil},
		{"basic_disabled", authn.Credential{Kind: authn.KindBasic, Username: "u", Password: "p"}, domain.ErrUnauthenticated},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, err := chain.Authenticate(ctx, tc.cred, client)
				if !errors.Is(err, tc.wantErr) { // errors.Is(nil, nil) is true
					b.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			}
		})
	}
}

// BenchmarkBasic is the configured basic credential: two SHA-256 digests
// and two constant-time comparisons, no store (no user link, no throttle).
func BenchmarkBasic(b *testing.B) {
	basic := authn.NewBasic(authn.BasicConfig{Username: basicUser, Password: basicPass}, authn.BasicDeps{})
	cred := authn.Credential{Kind: authn.KindBasic, Username: basicUser, Password: basicPass}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := basic.Authenticate(ctx, cred, principal.Client{}); err != nil {
			b.Fatal(err)
		}
	}
}
