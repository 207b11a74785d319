package apikey_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/authn"
)

func TestAuthenticateGivesScopesNarrowedByTheOwnersCurrentRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	editor := f.user(t, user.RoleEditor)
	issued := f.create(t, editor, apikey.CreateInput{Scopes: []string{"workflows:write", "workflows:read"}})

	p := f.mustAuth(t, issued.Token.Secret())
	want := principal.Principal{
		UserID: editor.UserID, Username: editor.Username, Role: user.RoleEditor, Method: principal.MethodAPIKey,
		Permissions: []user.Permission{user.PermWorkflowsRead, user.PermWorkflowsWrite}, KeyID: issued.Key.ID,
	}
	if p.UserID != want.UserID || p.Username != want.Username || p.Role != want.Role || p.Method != want.Method ||
		p.KeyID != want.KeyID || !slices.Equal(p.Permissions, want.Permissions) || p.SessionID != "" {
		t.Fatalf("principal = %+v\nwant %+v", p, want)
	}
	if p.Can(user.PermAPIKeysManage) {
		t.Fatal("a key without api_keys:manage in its scopes can manage keys")
	}

	// Demoting the owner narrows the key on the next request.
	_, _ = f.users.Update(context.Background(), editor.UserID, func(u *user.User) error { u.Role = user.RoleViewer; return nil })
	p = f.mustAuth(t, issued.Token.Secret())
	if !slices.Equal(p.Permissions, []user.Permission{user.PermWorkflowsRead}) || p.Role != user.RoleViewer {
		t.Fatalf("after demotion: %s %v", p.Role, p.Permissions)
	}

	// Disabling the owner stops the key at once; enabling brings it back.
	_, _ = f.users.Update(context.Background(), editor.UserID, func(u *user.User) error { u.Disabled = true; return nil })
	f.mustRefuse(t, issued.Token.Secret())
	_, _ = f.users.Update(context.Background(), editor.UserID, func(u *user.User) error { u.Disabled = false; return nil })
	f.mustAuth(t, issued.Token.Secret())

	// Deleting the owner deletes the key.
	if err := f.users.Delete(context.Background(), editor.UserID); err != nil {
		t.Fatal(err)
	}
	f.mustRefuse(t, issued.Token.Secret())
}

func TestAuthenticateRefusesExpiredKeysByTheClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	exp := t0.Add(time.Hour)
	issued := f.create(t, f.user(t, user.RoleViewer), apikey.CreateInput{ExpiresAt: &exp})
	f.clock.Set(exp.Add(-time.Microsecond))
	f.mustAuth(t, issued.Token.Secret())
	f.clock.Set(exp)
	f.mustRefuse(t, issued.Token.Secret())
}

func TestAuthenticateRefusesMalformedKeysBeforeAnyLookup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	issued := f.create(t, f.user(t, user.RoleViewer), apikey.CreateInput{})
	good := issued.Token.Secret()
	flipped := []byte(good)
	if flipped[44] == 'a' {
		flipped[44] = 'b'
	} else {
		flipped[44] = 'a'
	}
	for _, bad := range []string{"", "m9m_sk_", good[:44], good + "x", string(flipped), strings.ToUpper(good), "Bearer " + good} {
		f.mustRefuse(t, bad)
	}
	if n := f.spy.lookups.Load(); n != 0 {
		t.Fatalf("malformed keys caused %d store lookups, want 0", n)
	}
	// A well-formed key costs exactly one lookup and no write.
	f.mustAuth(t, good)
	if n := f.spy.lookups.Load(); n != 1 {
		t.Fatalf("a valid key cost %d lookups, want 1", n)
	}
	if n := f.spy.touches.Load(); n != 0 {
		t.Fatalf("authenticating wrote lastUsedAt %d times on the request path", n)
	}
}

func TestAuthenticateUnknownKeyIs401AndStoreFailureIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	unknown, err := cryptoKey()
	if err != nil {
		t.Fatal(err)
	}
	f.mustRefuse(t, unknown.Secret())

	f.spy.fail = domain.Unavailable("postgres", errors.New("connection refused"))
	_, err = f.authenticate(unknown.Secret())
	wantErr(t, err, domain.ErrUnavailable)
	f.spy.fail = errors.New("untranslated driver error")
	_, err = f.authenticate(unknown.Secret())
	wantErr(t, err, domain.ErrUnavailable)
}

func TestAuthenticateOnlyTakesAPIKeyCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	issued := f.create(t, f.user(t, user.RoleViewer), apikey.CreateInput{})
	for _, kind := range []authn.Kind{authn.KindNone, authn.KindBearer, authn.KindBasic} {
		_, err := f.auth.Authenticate(context.Background(), authn.Credential{Kind: kind, Secret: issued.Token.Secret()}, client)
		wantErr(t, err, domain.ErrUnauthenticated)
	}
}

func TestAuthenticateNotesUseForLastUsed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	issued := f.create(t, f.user(t, user.RoleViewer), apikey.CreateInput{})
	f.clock.Advance(time.Minute)
	f.mustAuth(t, issued.Token.Secret())
	if f.usage.Pending() != 1 {
		t.Fatalf("pending = %d, want 1", f.usage.Pending())
	}
	if err := f.usage.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	k, _ := f.keys.Get(context.Background(), issued.Key.ID)
	if k.LastUsedAt == nil || !k.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("lastUsedAt = %v", k.LastUsedAt)
	}
}

// FuzzAuthenticate feeds arbitrary X-API-Key values to the authenticator:
// only the one issued key is accepted, and nothing malformed reaches the
// store.
func FuzzAuthenticate(f *testing.F) {
	fx := newFixture(f, 100)
	issued, err := fx.svc.Create(context.Background(), fx.user(f, user.RoleViewer), client, apikey.CreateInput{Name: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	good := issued.Token.Secret()
	f.Add(good)
	f.Add(good[:44])
	f.Add(good + " ")
	f.Add("m9m_sk_" + strings.Repeat("0", 32) + ak.Checksum(strings.Repeat("0", 32)))
	f.Add("")
	f.Add("m9m_sk_\x00")
	f.Fuzz(func(t *testing.T, s string) {
		before := fx.spy.lookups.Load()
		p, err := fx.authenticate(s)
		_, perr := ak.Parse(s)
		if perr != nil && fx.spy.lookups.Load() != before {
			t.Fatalf("malformed key %q reached the store", s)
		}
		if s == good {
			if err != nil || p.KeyID != issued.Key.ID {
				t.Fatalf("issued key refused: %v", err)
			}
			return
		}
		if !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("authenticate(%q) = %+v, %v; want 401", s, p, err)
		}
	})
}
