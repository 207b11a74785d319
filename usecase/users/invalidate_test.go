package users_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/authn"
	"github.com/m9m/auth/usecase/users"
)

// countingAuth counts the digest reads that reach the key store.
type countingAuth struct {
	port.APIKeyAuthStore
	reads atomic.Int64
}

func (c *countingAuth) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	c.reads.Add(1)
	return c.APIKeyAuthStore.GetByDigest(ctx, digest)
}

// keyFixture is the fixture with API keys, a cache in front of their store
// and a LocalInvalidator behind a recording one: the embedded mode.
type keyFixture struct {
	*fixture
	keys    *memory.APIKeyStore
	store   *countingAuth
	inv     *porttest.RecordingInvalidator
	keySvc  *apikey.Service
	keyAuth *apikey.Authenticator
}

func newKeyFixture(t *testing.T) *keyFixture {
	t.Helper()
	f := &keyFixture{fixture: newFixture(t)}
	f.keys = memory.NewAPIKeyStore(f.fixture.store)
	f.keys.AttachAudit(f.audit)
	f.store = &countingAuth{APIKeyAuthStore: f.keys}
	cache := apikey.NewCache(f.store, f.clock, func() bool { return true }, apikey.CacheSettings{TTL: time.Hour})
	f.inv = &porttest.RecordingInvalidator{Next: apikey.LocalInvalidator{Cache: cache}}
	hasher := crypto.NewArgon2Hasher(crypto.HasherConfig{Params: crypto.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}})
	f.svc = users.New(users.Deps{
		Users: f.fixture.store, Lister: f.fixture.store, Remover: memory.NewUserRemover(f.fixture.store, f.workflows),
		Hasher: hasher, Revoker: f.auth.Revoker(), Keys: f.keys, Audit: f.audit, Clock: f.clock, Invalidator: f.inv,
	})
	f.keySvc = apikey.New(apikey.Deps{Keys: f.keys, Users: f.fixture.store, Generate: crypto.NewAPIKey, Audit: f.audit, Clock: f.clock}, apikey.Settings{})
	f.keyAuth = apikey.NewAuthenticator(cache, f.clock, nil)
	return f
}

// key creates a key of u (all of its role's permissions) and uses it once,
// so that its grant is cached; it returns the key.
func (f *keyFixture) key(t *testing.T, u *user.User) string {
	t.Helper()
	p := principal.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, Method: principal.MethodJWT, Permissions: u.Role.Permissions()}
	issued, err := f.keySvc.Create(context.Background(), p, client, apikey.CreateInput{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	secret := issued.Token.Secret()
	if _, read, err := f.useKey(secret); err != nil || !read {
		t.Fatalf("first use: read %v, err %v", read, err)
	}
	if _, read, err := f.useKey(secret); err != nil || read {
		t.Fatalf("second use: read %v, err %v; want a cache hit", read, err)
	}
	return secret
}

// useKey authenticates with secret and says whether the store was read.
func (f *keyFixture) useKey(secret string) (principal.Principal, bool, error) {
	before := f.store.reads.Load()
	p, err := f.keyAuth.Authenticate(context.Background(), authn.Credential{Kind: authn.KindAPIKey, Secret: secret}, client)
	return p, f.store.reads.Load() != before, err
}

// wantOwnerInvalidated fails unless exactly one call invalidated id.
func (f *keyFixture) wantOwnerInvalidated(t *testing.T, id string) {
	t.Helper()
	want := [][]port.FeedEntry{{{OwnerID: id}}}
	if got := f.inv.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("invalidations = %+v, want %+v", got, want)
	}
}

// checkUser makes the invalidator look at the stored user when it is called.
func (f *keyFixture) checkUser(t *testing.T, id string, committed func(*user.User, error) bool) {
	f.inv.Check = func([]port.FeedEntry) {
		u, err := f.fixture.store.Get(context.Background(), id)
		if !committed(u, err) {
			t.Errorf("invalidated before the change was stored: %+v, %v", u, err)
		}
	}
}

func TestRoleChangeInvalidatesTheOwnersKeysAfterItsCommit(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	editor := f.create(t, "editor", user.RoleEditor)
	secret := f.key(t, editor)
	f.checkUser(t, editor.ID, func(u *user.User, err error) bool { return err == nil && u.Role == user.RoleViewer })
	if _, err := f.svc.Update(context.Background(), f.admin, client, editor.ID, users.UpdateInput{Role: ptr("viewer")}); err != nil {
		t.Fatal(err)
	}
	f.wantOwnerInvalidated(t, editor.ID)
	p, read, err := f.useKey(secret)
	if err != nil || !read {
		t.Fatalf("after the demotion: read %v, err %v; want a store read", read, err)
	}
	if p.Role != user.RoleViewer || slices.Contains(p.Permissions, user.PermWorkflowsWrite) {
		t.Fatalf("the demoted owner's key still grants %v as %s", p.Permissions, p.Role)
	}
}

func TestDisableAndEnableInvalidateTheOwnersKeys(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	u := f.create(t, "switched", user.RoleEditor)
	secret := f.key(t, u)
	ctx := context.Background()
	f.checkUser(t, u.ID, func(u *user.User, err error) bool { return err == nil && u.Disabled })
	if _, err := f.svc.Update(ctx, f.admin, client, u.ID, users.UpdateInput{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.useKey(secret); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("a disabled owner's key: %v, want 401", err)
	}
	// The refusal read a grant with the owner disabled; enabling must make
	// the key work again at once, not after the TTL.
	f.checkUser(t, u.ID, func(u *user.User, err error) bool { return err == nil && !u.Disabled })
	if _, err := f.svc.Update(ctx, f.admin, client, u.ID, users.UpdateInput{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.useKey(secret); err != nil {
		t.Fatalf("a re-enabled owner's key: %v", err)
	}
	want := [][]port.FeedEntry{{{OwnerID: u.ID}}, {{OwnerID: u.ID}}}
	if got := f.inv.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("invalidations = %+v, want %+v", got, want)
	}
}

func TestPasswordResetLeavesKeysCached(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	u := f.create(t, "reset", user.RoleViewer)
	secret := f.key(t, u)
	if _, err := f.svc.Update(context.Background(), f.admin, client, u.ID, users.UpdateInput{Password: ptr("a brand new passphrase")}); err != nil {
		t.Fatal(err)
	}
	if got := f.inv.Calls(); len(got) != 0 {
		t.Fatalf("a password reset invalidated %+v; keys do not carry the password", got)
	}
	if _, read, err := f.useKey(secret); err != nil || read {
		t.Fatalf("after a password reset: read %v, err %v; want a cache hit", read, err)
	}
}

func TestDeleteInvalidatesTheOwnersKeysAfterItsCommit(t *testing.T) {
	t.Parallel()
	for _, transfer := range []bool{false, true} {
		f := newKeyFixture(t)
		leaver := f.create(t, "leaver", user.RoleEditor)
		heir := f.create(t, "heir", user.RoleEditor)
		gone, kept := f.key(t, leaver), f.key(t, heir)
		in := users.DeleteInput{}
		if transfer {
			f.ownWorkflows(t, leaver, 2)
			in.TransferTo = heir.ID
		}
		f.checkUser(t, leaver.ID, func(_ *user.User, err error) bool { return errors.Is(err, domain.ErrNotFound) })
		if err := f.svc.Delete(context.Background(), f.admin, client, leaver.ID, in); err != nil {
			t.Fatal(err)
		}
		f.wantOwnerInvalidated(t, leaver.ID)
		if _, _, err := f.useKey(gone); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("transfer %v: a deleted user's key: %v, want 401", transfer, err)
		}
		// Workflows move on a transfer, keys never do: the heir's stay cached.
		if _, read, err := f.useKey(kept); err != nil || read {
			t.Fatalf("transfer %v: the heir's key: read %v, err %v; want a cache hit", transfer, read, err)
		}
	}
}

func TestRevokeCredentialsInvalidatesOnceAfterTheKeysAreRevoked(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	u := f.create(t, "compromised", user.RoleEditor)
	secrets := []string{f.key(t, u), f.key(t, u)}
	f.inv.Check = func([]port.FeedEntry) {
		page, _, err := f.keys.ListByOwner(context.Background(), u.ID, f.clock.Now(), "", 10)
		if err != nil || len(page) != 0 {
			t.Errorf("invalidated with %d keys not yet revoked (%v)", len(page), err)
		}
	}
	out, err := f.svc.RevokeCredentials(context.Background(), f.admin, client, u.ID)
	if err != nil || out.KeysRevoked != 2 {
		t.Fatalf("RevokeCredentials = %+v, %v", out, err)
	}
	f.wantOwnerInvalidated(t, u.ID)
	for _, s := range secrets {
		if _, _, err := f.useKey(s); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("a revoked key: %v, want 401", err)
		}
	}
	// A user without keys: nothing to invalidate.
	bare := f.create(t, "bare", user.RoleViewer)
	if _, err := f.svc.RevokeCredentials(context.Background(), f.admin, client, bare.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(f.inv.Calls()); n != 1 {
		t.Fatalf("%d invalidations, want still 1", n)
	}
}

func TestRefusedUserChangesInvalidateNothing(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	owner := f.create(t, "owner", user.RoleEditor)
	f.ownWorkflows(t, owner, 1)
	_, err := f.svc.Update(ctx, f.admin, client, f.admin.UserID, users.UpdateInput{Role: ptr("viewer")})
	wantErr(t, err, domain.ErrConflict)
	_, err = f.svc.Update(ctx, f.admin, client, domain.NewID(), users.UpdateInput{Disabled: ptr(true)})
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{}), domain.ErrConflict)
	wantErr(t, f.svc.Delete(ctx, f.admin, client, domain.NewID(), users.DeleteInput{}), domain.ErrNotFound)
	if got := f.inv.Calls(); len(got) != 0 {
		t.Fatalf("refused changes invalidated %+v", got)
	}
}

func TestFailedUserInvalidationIs503AfterTheCommit(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	ctx := context.Background()
	demoted := f.create(t, "demoted", user.RoleEditor)
	leaver := f.create(t, "leaver", user.RoleViewer)
	cut := f.create(t, "cut", user.RoleViewer)
	f.key(t, cut)
	f.inv.Err = errors.New("feed unreachable")
	_, err := f.svc.Update(ctx, f.admin, client, demoted.ID, users.UpdateInput{Role: ptr("viewer")})
	wantErr(t, err, domain.ErrUnavailable)
	if u, _ := f.fixture.store.Get(ctx, demoted.ID); u.Role != user.RoleViewer {
		t.Fatalf("role = %s; the change itself must be committed", u.Role)
	}
	wantErr(t, f.svc.Delete(ctx, f.admin, client, leaver.ID, users.DeleteInput{}), domain.ErrUnavailable)
	if _, err := f.fixture.store.Get(ctx, leaver.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the deletion must be committed: %v", err)
	}
	out, err := f.svc.RevokeCredentials(ctx, f.admin, client, cut.ID)
	wantErr(t, err, domain.ErrUnavailable)
	if out.KeysRevoked != 1 {
		t.Fatalf("KeysRevoked = %d, want 1", out.KeysRevoked)
	}
	if n := len(f.inv.Calls()); n != 3 {
		t.Fatalf("%d invalidation attempts, want 3", n)
	}
}
