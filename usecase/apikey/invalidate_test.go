package apikey_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/usecase/apikey"
)

// cachedFixture is the fixture with a cache in front of the store, kept in
// step by a LocalInvalidator behind the recording one (the embedded mode).
type cachedFixture struct {
	*fixture
	inv   *porttest.RecordingInvalidator
	cache *apikey.Cache
	auth  *apikey.Authenticator
}

func newCachedFixture(t *testing.T) *cachedFixture {
	t.Helper()
	f := &cachedFixture{fixture: newFixture(t, 100)}
	f.cache = apikey.NewCache(f.spy, f.clock, func() bool { return true }, apikey.CacheSettings{TTL: time.Hour})
	f.inv = &porttest.RecordingInvalidator{Next: apikey.LocalInvalidator{Cache: f.cache}}
	f.svc = apikey.New(apikey.Deps{
		Keys: f.keys, Users: f.users, Generate: crypto.NewAPIKey, Audit: f.audit, Clock: f.clock, Invalidator: f.inv,
	}, apikey.Settings{MaxPerUser: 100})
	f.auth = apikey.NewAuthenticator(f.cache, f.clock, nil)
	return f
}

// cachedAuth authenticates secret through the cache and says whether the
// store was read.
func (f *cachedFixture) cachedAuth(secret string) (bool, error) {
	before := f.spy.lookups.Load()
	_, err := authWith(f.auth, secret)
	return f.spy.lookups.Load() != before, err
}

func TestRevokeInvalidatesTheKeyAfterItsCommit(t *testing.T) {
	t.Parallel()
	f := newCachedFixture(t)
	owner := f.user(t, user.RoleEditor)
	issued := f.create(t, owner, apikey.CreateInput{})
	other := f.create(t, owner, apikey.CreateInput{})
	if len(f.inv.Calls()) != 0 {
		t.Fatalf("creating keys invalidated %v; want nothing (unknown keys are never cached)", f.inv.Calls())
	}
	for _, k := range []apikey.Issued{issued, other} {
		if _, err := f.cachedAuth(k.Token.Secret()); err != nil {
			t.Fatal(err)
		}
		if read, err := f.cachedAuth(k.Token.Secret()); err != nil || read {
			t.Fatalf("second use: read %v, err %v; want a cache hit", read, err)
		}
	}
	f.inv.Check = func([]port.FeedEntry) {
		k, err := f.keys.Get(context.Background(), issued.Key.ID)
		if err != nil || k.RevokedAt == nil {
			t.Errorf("invalidated before the revocation was stored: %+v, %v", k, err)
		}
	}
	if err := f.svc.Revoke(context.Background(), owner, client, issued.Key.ID); err != nil {
		t.Fatal(err)
	}
	want := [][]port.FeedEntry{{{KeyID: issued.Key.ID}}}
	if got := f.inv.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("invalidations = %+v, want %+v", got, want)
	}
	if read, err := f.cachedAuth(issued.Token.Secret()); !read || !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("the revoked key: read %v, err %v; want a store read and 401", read, err)
	}
	if read, err := f.cachedAuth(other.Token.Secret()); read || err != nil {
		t.Fatalf("the owner's other key: read %v, err %v; want still a cache hit", read, err)
	}
}

func TestRotateInvalidatesTheOldKeyAfterItsCommit(t *testing.T) {
	t.Parallel()
	for _, grace := range []int{0, 600} {
		f := newCachedFixture(t)
		owner := f.user(t, user.RoleEditor)
		old := f.create(t, owner, apikey.CreateInput{})
		if _, err := f.cachedAuth(old.Token.Secret()); err != nil {
			t.Fatal(err)
		}
		f.inv.Check = func([]port.FeedEntry) {
			k, err := f.keys.Get(context.Background(), old.Key.ID)
			if err != nil || k.RevokedAt == nil || (grace > 0) != (k.GraceUntil != nil) {
				t.Errorf("grace %d: invalidated before the rotation was stored: %+v, %v", grace, k, err)
			}
		}
		successor, err := f.svc.Rotate(context.Background(), owner, client, old.Key.ID, apikey.RotateInput{GraceSeconds: grace})
		if err != nil {
			t.Fatal(err)
		}
		want := [][]port.FeedEntry{{{KeyID: old.Key.ID}}}
		if got := f.inv.Calls(); !reflect.DeepEqual(got, want) {
			t.Fatalf("grace %d: invalidations = %+v, want %+v", grace, got, want)
		}
		read, err := f.cachedAuth(old.Token.Secret())
		if !read {
			t.Fatalf("grace %d: the old key was answered from the cache after its rotation", grace)
		}
		if grace == 0 && !errors.Is(err, domain.ErrUnauthenticated) || grace > 0 && err != nil {
			t.Fatalf("grace %d: the old key: %v", grace, err)
		}
		if _, err := f.cachedAuth(successor.Token.Secret()); err != nil {
			t.Fatalf("grace %d: successor: %v", grace, err)
		}
	}
}

func TestRefusedKeyChangesInvalidateNothing(t *testing.T) {
	t.Parallel()
	f := newCachedFixture(t)
	owner := f.user(t, user.RoleEditor)
	stranger := f.user(t, user.RoleEditor)
	k := f.create(t, owner, apikey.CreateInput{})
	ctx := context.Background()
	wantErr(t, f.svc.Revoke(ctx, stranger, client, k.Key.ID), domain.ErrForbidden)
	wantErr(t, f.svc.Revoke(ctx, owner, client, domain.NewID()), domain.ErrNotFound)
	_, err := f.svc.Rotate(ctx, stranger, client, k.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrForbidden)
	if err := f.svc.Revoke(ctx, owner, client, k.Key.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Rotate(ctx, owner, client, k.Key.ID, apikey.RotateInput{}) // revoked: 409 under the lock
	wantErr(t, err, domain.ErrConflict)
	if got := f.inv.Calls(); len(got) != 1 {
		t.Fatalf("invalidations = %+v, want only the one revoke's", got)
	}
}

func TestFailedInvalidationIs503AfterTheCommit(t *testing.T) {
	t.Parallel()
	f := newCachedFixture(t)
	owner := f.user(t, user.RoleEditor)
	k := f.create(t, owner, apikey.CreateInput{})
	r := f.create(t, owner, apikey.CreateInput{})
	f.inv.Err = errors.New("feed unreachable")
	ctx := context.Background()
	wantErr(t, f.svc.Revoke(ctx, owner, client, k.Key.ID), domain.ErrUnavailable)
	if stored, _ := f.keys.Get(ctx, k.Key.ID); stored.RevokedAt == nil {
		t.Fatal("the revocation was not stored")
	}
	_, err := f.svc.Rotate(ctx, owner, client, r.Key.ID, apikey.RotateInput{})
	wantErr(t, err, domain.ErrUnavailable)
	if stored, _ := f.keys.Get(ctx, r.Key.ID); stored.RevokedAt == nil {
		t.Fatal("the rotation was not stored")
	}
	// A retry of the revoke completes what failed.
	f.inv.Err = nil
	if err := f.svc.Revoke(ctx, owner, client, k.Key.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.inv.Calls(); len(got) != 3 {
		t.Fatalf("invalidations = %+v, want 3 attempts", got)
	}
}

func TestLocalInvalidatorWithoutCacheDoesNothing(t *testing.T) {
	t.Parallel()
	if err := (apikey.LocalInvalidator{}).Invalidate(context.Background(), port.FeedEntry{KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
}

func TestMayHaveCommitted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, true},
		{domain.Unavailable("postgres", errors.New("connection reset")), true},
		{domain.Internal(errors.New("commit failed")), true},
		{context.DeadlineExceeded, true},
		{domain.ErrNotFound, false},
		{domain.ErrConflict.Wrap(port.ErrKeyLimit), false},
		{domain.ErrForbidden, false},
		{domain.InvalidField("graceSeconds", "bad"), false},
	} {
		if got := apikey.MayHaveCommitted(tt.err); got != tt.want {
			t.Errorf("MayHaveCommitted(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
