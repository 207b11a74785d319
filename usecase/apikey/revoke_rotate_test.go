package apikey_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/apikey"
)

func cryptoKey() (ak.Token, error) { return crypto.NewAPIKey() }

func TestRevokeStopsTheKeyAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleViewer)
	issued := f.create(t, owner, apikey.CreateInput{})
	f.mustAuth(t, issued.Token.Secret())
	if err := f.svc.Revoke(context.Background(), owner, client, issued.Key.ID); err != nil {
		t.Fatal(err)
	}
	f.mustRefuse(t, issued.Token.Secret())
	// Idempotent, and the first revocation time stays.
	f.clock.Advance(time.Hour)
	if err := f.svc.Revoke(context.Background(), owner, client, issued.Key.ID); err != nil {
		t.Fatal(err)
	}
	k, _ := f.keys.Get(context.Background(), issued.Key.ID)
	if k.RevokedAt == nil || !k.RevokedAt.Equal(t0) {
		t.Fatalf("revokedAt = %v, want %v", k.RevokedAt, t0)
	}
	ev := f.audit.find(audit.ActionAPIKeyRevoke, audit.OutcomeSuccess)
	if len(ev) != 2 || ev[0].TargetID != issued.Key.ID || ev[0].ActorID != owner.UserID {
		t.Fatalf("audit = %+v", ev)
	}
	noSecret(t, "the audit log", f.audit.all(), issued.Token)
}

func TestOwnershipRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleEditor)
	stranger := f.user(t, user.RoleEditor)
	admin := f.user(t, user.RoleAdmin)
	ctx := context.Background()

	k1 := f.create(t, owner, apikey.CreateInput{})
	err := f.svc.Revoke(ctx, stranger, client, k1.Key.ID)
	wantErr(t, err, domain.ErrForbidden)
	_, err = f.svc.Rotate(ctx, stranger, client, k1.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrForbidden)
	f.mustAuth(t, k1.Token.Secret())
	if n := len(f.audit.find(audit.ActionAPIKeyRevoke, audit.OutcomeDenied)); n != 1 {
		t.Fatalf("%d denied revoke events, want 1", n)
	}

	for _, id := range []string{domain.NewID(), ""} {
		wantErr(t, f.svc.Revoke(ctx, owner, client, id), domain.ErrNotFound)
		_, err = f.svc.Rotate(ctx, owner, client, id, apikey.RotateInput{})
		wantErr(t, err, domain.ErrNotFound)
	}

	// An admin may rotate and revoke anyone's key; the successor keeps the owner.
	rotated, err := f.svc.Rotate(ctx, admin, client, k1.Key.ID, apikey.RotateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Key.OwnerID != owner.UserID {
		t.Fatalf("successor owner = %s, want %s", rotated.Key.OwnerID, owner.UserID)
	}
	if err := f.svc.Revoke(ctx, admin, client, rotated.Key.ID); err != nil {
		t.Fatal(err)
	}
	f.mustRefuse(t, rotated.Token.Secret())

	// A key may revoke keys of its owner (its scopes include api_keys:manage)
	// but never rotate one.
	k2 := f.create(t, owner, apikey.CreateInput{})
	k3 := f.create(t, owner, apikey.CreateInput{})
	asKey := f.mustAuth(t, k2.Token.Secret())
	_, err = f.svc.Rotate(ctx, asKey, client, k3.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrForbidden)
	if err := f.svc.Revoke(ctx, asKey, client, k3.Key.ID); err != nil {
		t.Fatal(err)
	}
}

func TestRotateWithoutGraceStopsTheOldKeyAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	owner := f.user(t, user.RoleEditor)
	exp := t0.Add(30 * 24 * time.Hour)
	old := f.create(t, owner, apikey.CreateInput{Name: "deploy", ExpiresAt: &exp, Scopes: []string{"workflows:read"}})
	f.clock.Advance(time.Minute)

	// At the limit of one key, rotating still works: the new key replaces.
	next, err := f.svc.Rotate(context.Background(), owner, client, old.Key.ID, apikey.RotateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if next.Key.ID == old.Key.ID || next.Token.Secret() == old.Token.Secret() || next.Key.Digest == old.Key.Digest {
		t.Fatal("rotation reused the old key")
	}
	if next.Key.Name != "deploy" || !next.Key.ExpiresAt.Equal(exp) || !slices.Equal(next.Key.Scopes, old.Key.Scopes) ||
		next.Key.OwnerID != owner.UserID || !next.Key.CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("successor = %+v", next.Key)
	}
	f.mustRefuse(t, old.Token.Secret())
	f.mustAuth(t, next.Token.Secret())

	ev := f.audit.find(audit.ActionAPIKeyRotate, audit.OutcomeSuccess)
	if len(ev) != 1 || ev[0].TargetID != old.Key.ID || ev[0].Metadata["successorId"] != next.Key.ID {
		t.Fatalf("audit = %+v", ev)
	}
	noSecret(t, "the audit log", f.audit.all(), next.Token)

	// The old key can be rotated only once.
	_, err = f.svc.Rotate(context.Background(), owner, client, old.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrConflict)
}

func TestRotateWithGraceKeepsTheOldKeyUntilTheGraceEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleViewer)
	old := f.create(t, owner, apikey.CreateInput{})
	next, err := f.svc.Rotate(context.Background(), owner, client, old.Key.ID, apikey.RotateInput{GraceSeconds: 300})
	if err != nil {
		t.Fatal(err)
	}
	f.mustAuth(t, old.Token.Secret())
	f.mustAuth(t, next.Token.Secret())
	f.clock.Advance(300*time.Second - time.Microsecond)
	f.mustAuth(t, old.Token.Secret())
	f.clock.Advance(time.Microsecond)
	f.mustRefuse(t, old.Token.Secret())
	f.mustAuth(t, next.Token.Secret())
}

func TestRevokeEndsARotationGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleViewer)
	old := f.create(t, owner, apikey.CreateInput{})
	if _, err := f.svc.Rotate(context.Background(), owner, client, old.Key.ID, apikey.RotateInput{GraceSeconds: 3600}); err != nil {
		t.Fatal(err)
	}
	f.mustAuth(t, old.Token.Secret())
	if err := f.svc.Revoke(context.Background(), owner, client, old.Key.ID); err != nil {
		t.Fatal(err)
	}
	f.mustRefuse(t, old.Token.Secret())
}

func TestRotateRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleViewer)
	ctx := context.Background()
	k := f.create(t, owner, apikey.CreateInput{})
	for _, g := range []int{-1, apikey.MaxGraceSeconds + 1} {
		_, err := f.svc.Rotate(ctx, owner, client, k.Key.ID, apikey.RotateInput{GraceSeconds: g})
		wantField(t, err, "graceSeconds")
	}
	if _, err := f.svc.Rotate(ctx, owner, client, k.Key.ID, apikey.RotateInput{GraceSeconds: apikey.MaxGraceSeconds}); err != nil {
		t.Fatalf("max grace refused: %v", err)
	}

	revoked := f.create(t, owner, apikey.CreateInput{})
	_ = f.svc.Revoke(ctx, owner, client, revoked.Key.ID)
	_, err := f.svc.Rotate(ctx, owner, client, revoked.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrConflict)

	exp := f.clock.Now().Add(time.Hour)
	expiring := f.create(t, owner, apikey.CreateInput{ExpiresAt: &exp})
	f.clock.Set(exp)
	_, err = f.svc.Rotate(ctx, owner, client, expiring.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrConflict)

	basic := principal.Principal{Username: "ops", Role: user.RoleAdmin, Method: principal.MethodBasic, Permissions: user.AllPermissions}
	fresh := f.create(t, owner, apikey.CreateInput{})
	if _, err := f.svc.Rotate(ctx, basic, client, fresh.Key.ID, apikey.RotateInput{}); err != nil {
		t.Fatalf("basic (admin) rotation refused: %v", err)
	}
}

func TestConcurrentRotationsYieldOneSuccessor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleViewer)
	k := f.create(t, owner, apikey.CreateInput{})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = f.svc.Rotate(context.Background(), owner, client, k.Key.ID, apikey.RotateInput{})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !domainIsConflict(err):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d rotations succeeded, want 1", ok)
	}
	page, _ := f.svc.List(context.Background(), owner, apikey.ListInput{})
	if len(page.Keys) != 1 {
		t.Fatalf("%d live keys after racing rotations, want 1", len(page.Keys))
	}
}

func domainIsConflict(err error) bool { return domain.KindOf(err) == domain.KindConflict }
