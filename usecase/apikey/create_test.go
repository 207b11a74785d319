package apikey_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/apikey"
)

func TestCreateIssuesAKeyStoredOnlyAsItsDigest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	p := f.user(t, user.RoleEditor)
	exp := t0.Add(24*time.Hour + 1500*time.Nanosecond)
	issued := f.create(t, p, apikey.CreateInput{Name: "  CI/CD Integration ", ExpiresAt: &exp, Scopes: []string{"workflows:read"}})

	tok, err := ak.Parse(issued.Token.Secret())
	if err != nil {
		t.Fatalf("issued key does not parse: %v", err)
	}
	k := issued.Key
	if k.Name != "CI/CD Integration" || k.OwnerID != p.UserID || k.Prefix != tok.DisplayPrefix() || k.Digest != tok.Digest() {
		t.Fatalf("record = %+v", k)
	}
	if !slices.Equal(k.Scopes, []user.Permission{user.PermWorkflowsRead}) || !k.CreatedAt.Equal(t0) {
		t.Fatalf("scopes %v created %v", k.Scopes, k.CreatedAt)
	}
	if !k.ExpiresAt.Equal(t0.Add(24*time.Hour + time.Microsecond)) {
		t.Fatalf("expiresAt = %v, want microsecond precision", k.ExpiresAt)
	}
	stored, err := f.keys.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Digest+stored.Prefix+stored.Name, tok.Secret()[len(tok.DisplayPrefix()):]) {
		t.Fatal("the stored record contains the key")
	}
	ev := f.audit.find(audit.ActionAPIKeyCreate, audit.OutcomeSuccess)
	if len(ev) != 1 || ev[0].TargetID != k.ID || ev[0].ActorID != p.UserID || ev[0].IP != client.IP {
		t.Fatalf("audit events = %+v", ev)
	}
	noSecret(t, "the audit log", f.audit.all(), tok)
	// Formatting an Issued (a careless log line) shows the record, never the key.
	if strings.Contains(fmt.Sprintf("%+v %v %#v", issued, &issued, issued), tok.Secret()[len(tok.DisplayPrefix()):]) {
		t.Fatal("a formatted Issued contains the key")
	}
}

func TestCreateDefaultsScopesToTheOwnersRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	for _, role := range []user.Role{user.RoleViewer, user.RoleEditor, user.RoleAdmin} {
		issued := f.create(t, f.user(t, role), apikey.CreateInput{})
		if !slices.Equal(issued.Key.Scopes, role.Permissions()) || issued.Key.ExpiresAt != nil {
			t.Errorf("%s: scopes %v expires %v", role, issued.Key.Scopes, issued.Key.ExpiresAt)
		}
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	viewer := f.user(t, user.RoleViewer)
	past, now := t0.Add(-time.Second), t0
	tests := []struct {
		name   string
		in     apikey.CreateInput
		fields []string
	}{
		{"no name", apikey.CreateInput{}, []string{"name"}},
		{"blank name", apikey.CreateInput{Name: "   "}, []string{"name"}},
		{"long name", apikey.CreateInput{Name: strings.Repeat("n", 101)}, []string{"name"}},
		{"control char", apikey.CreateInput{Name: "a\nb"}, []string{"name"}},
		{"expiry in the past", apikey.CreateInput{Name: "k", ExpiresAt: &past}, []string{"expiresAt"}},
		{"expiry now", apikey.CreateInput{Name: "k", ExpiresAt: &now}, []string{"expiresAt"}},
		{"unknown scope", apikey.CreateInput{Name: "k", Scopes: []string{"root"}}, []string{"scopes"}},
		{"scope beyond role", apikey.CreateInput{Name: "k", Scopes: []string{"workflows:write"}}, []string{"scopes"}},
		{"everything wrong at once", apikey.CreateInput{ExpiresAt: &past, Scopes: []string{"users:manage"}}, []string{"name", "expiresAt", "scopes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Create(context.Background(), viewer, client, tt.in)
			for _, field := range tt.fields {
				wantField(t, err, field)
			}
			if got := len(domain.As(err).Details); got != len(tt.fields) {
				t.Fatalf("%d details, want %d: %+v", got, len(tt.fields), domain.As(err).Details)
			}
		})
	}
	page, err := f.svc.List(context.Background(), viewer, apikey.ListInput{})
	if err != nil || len(page.Keys) != 0 {
		t.Fatalf("refused creates stored keys: %v %v", page.Keys, err)
	}
}

func TestCreateRefusesCallersThatCannotOwnKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	p := f.user(t, user.RoleAdmin)
	asKey := p
	asKey.Method, asKey.KeyID = principal.MethodAPIKey, "k1"
	_, err := f.svc.Create(context.Background(), asKey, client, apikey.CreateInput{Name: "k"})
	wantErr(t, err, domain.ErrForbidden)

	basicUnlinked := principal.Principal{Username: "ops", Role: user.RoleAdmin, Method: principal.MethodBasic, Permissions: user.AllPermissions}
	_, err = f.svc.Create(context.Background(), basicUnlinked, client, apikey.CreateInput{Name: "k"})
	wantErr(t, err, domain.ErrForbidden)
	if !strings.Contains(domain.As(err).Message, "basic") {
		t.Fatalf("message %q should explain the basic-auth case", domain.As(err).Message)
	}

	// A basic caller linked to a viewer account creates keys for that
	// account, within the account's role.
	viewer := f.user(t, user.RoleViewer)
	basicLinked := basicUnlinked
	basicLinked.UserID = viewer.UserID
	issued := f.create(t, basicLinked, apikey.CreateInput{})
	if issued.Key.OwnerID != viewer.UserID || !slices.Equal(issued.Key.Scopes, user.RoleViewer.Permissions()) {
		t.Fatalf("basic-created key = %+v", issued.Key)
	}

	// A disabled or deleted account owns nothing new.
	_, _ = f.users.Update(context.Background(), viewer.UserID, func(u *user.User) error { u.Disabled = true; return nil })
	_, err = f.svc.Create(context.Background(), viewer, client, apikey.CreateInput{Name: "k"})
	wantErr(t, err, domain.ErrUnauthenticated)
	ghost := viewer
	ghost.UserID = domain.NewID()
	_, err = f.svc.Create(context.Background(), ghost, client, apikey.CreateInput{Name: "k"})
	wantErr(t, err, domain.ErrUnauthenticated)
}

func TestCreateLimitsActiveKeysPerOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	p := f.user(t, user.RoleViewer)
	other := f.user(t, user.RoleViewer)
	soon := t0.Add(time.Hour)
	first := f.create(t, p, apikey.CreateInput{ExpiresAt: &soon})
	second := f.create(t, p, apikey.CreateInput{})
	f.create(t, p, apikey.CreateInput{})
	_, err := f.svc.Create(context.Background(), p, client, apikey.CreateInput{Name: "fourth"})
	wantErr(t, err, domain.ErrConflict)
	if !strings.Contains(domain.As(err).Message, "3") {
		t.Fatalf("message %q should state the limit", domain.As(err).Message)
	}
	f.create(t, other, apikey.CreateInput{}) // another owner is not affected

	// A revoked key frees a place, and so does an expired one.
	if err := f.svc.Revoke(context.Background(), p, client, second.Key.ID); err != nil {
		t.Fatal(err)
	}
	f.create(t, p, apikey.CreateInput{})
	f.clock.Advance(time.Hour)
	_ = first
	f.create(t, p, apikey.CreateInput{})
	_, err = f.svc.Create(context.Background(), p, client, apikey.CreateInput{Name: "again"})
	wantErr(t, err, domain.ErrConflict)
}
