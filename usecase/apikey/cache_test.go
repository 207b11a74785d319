package apikey_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/authn"
)

func authWith(a *apikey.Authenticator, secret string) (principal.Principal, error) {
	return a.Authenticate(context.Background(), authn.Credential{Kind: authn.KindAPIKey, Secret: secret}, client)
}

// grantStore is an inner port.APIKeyAuthStore that counts its reads and can
// hold one inside GetByDigest, after it has read the row and before it
// answers: the window of the fill race.
type grantStore struct {
	mu      sync.Mutex
	grants  map[string]port.KeyGrant
	reads   atomic.Int64
	touches atomic.Int64
	fail    error
	// hold, when set, is called by the next read once it has its answer.
	hold func()
}

func newGrantStore() *grantStore { return &grantStore{grants: make(map[string]port.KeyGrant)} }

func (s *grantStore) GetByDigest(_ context.Context, digest string) (*port.KeyGrant, error) {
	s.reads.Add(1)
	s.mu.Lock()
	g, ok := s.grants[digest]
	hold := s.hold
	s.hold = nil
	fail := s.fail
	s.mu.Unlock()
	if hold != nil {
		hold()
	}
	switch {
	case fail != nil:
		return nil, fail
	case !ok:
		return nil, domain.ErrNotFound
	}
	return &g, nil
}

func (s *grantStore) TouchLastUsed(context.Context, map[string]time.Time) error {
	s.touches.Add(1)
	return nil
}

// put stores a grant of a new key of owner and returns its digest.
func (s *grantStore) put(owner string, role user.Role) (string, port.KeyGrant) {
	digest := domain.NewID() + domain.NewID()
	g := port.KeyGrant{
		Key: ak.Key{
			ID: domain.NewID(), OwnerID: owner, Name: "k", Digest: digest,
			Scopes: role.Permissions(), CreatedAt: t0,
		},
		OwnerUsername: "u-" + owner[:6], OwnerRole: role,
	}
	s.set(digest, g)
	return digest, g
}

func (s *grantStore) set(digest string, g port.KeyGrant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[digest] = g
}

func (s *grantStore) holdNext(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = f
}

// freshness is the follower's lease as the cache sees it.
type freshness struct{ on atomic.Bool }

func (f *freshness) fresh() bool { return f.on.Load() }

type cacheFixture struct {
	store *grantStore
	clock *memory.Clock
	fresh *freshness
	cache *apikey.Cache
}

func newCacheFixture(settings apikey.CacheSettings) *cacheFixture {
	f := &cacheFixture{store: newGrantStore(), clock: memory.NewClock(t0), fresh: &freshness{}}
	f.fresh.on.Store(true)
	f.cache = apikey.NewCache(f.store, f.clock, f.fresh.fresh, settings)
	return f
}

// get looks digest up and returns the grant and whether the store was read.
func (f *cacheFixture) get(t *testing.T, digest string) (*port.KeyGrant, bool) {
	t.Helper()
	before := f.store.reads.Load()
	g, err := f.cache.GetByDigest(context.Background(), digest)
	if err != nil {
		t.Fatalf("GetByDigest: %v", err)
	}
	return g, f.store.reads.Load() != before
}

// wantHit fails unless digest is answered without a store read.
func (f *cacheFixture) wantHit(t *testing.T, digest string) *port.KeyGrant {
	t.Helper()
	g, read := f.get(t, digest)
	if read {
		t.Fatal("the store was read; want an answer from the cache")
	}
	return g
}

// wantRead fails unless digest is answered by a store read.
func (f *cacheFixture) wantRead(t *testing.T, digest string) *port.KeyGrant {
	t.Helper()
	g, read := f.get(t, digest)
	if !read {
		t.Fatal("answered from the cache; want a store read")
	}
	return g
}

func TestCacheHitMakesNoStoreRead(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	digest, want := f.store.put(domain.NewID(), user.RoleEditor)
	f.wantRead(t, digest)
	scope := want.Key.Scopes[0]
	for range 3 {
		if g := f.wantHit(t, digest); g.Key.ID != want.Key.ID || g.OwnerRole != user.RoleEditor || len(g.Key.Scopes) != len(want.Key.Scopes) {
			t.Fatalf("cached grant = %+v, want %+v", g, want)
		}
	}
	if st := f.cache.Stats(); st.Hits != 3 || st.Misses != 1 || st.Entries != 1 {
		t.Fatalf("stats = %+v, want 3 hits, 1 miss, 1 entry", st)
	}
	// The grants handed out are the callers' own: changing them changes
	// nothing cached.
	hit := f.wantHit(t, digest)
	hit.Key.Scopes[0] = "tampered"
	later := t0.Add(time.Hour)
	hit.Key.RevokedAt = &later
	if g := f.wantHit(t, digest); g.Key.Scopes[0] != scope || g.Key.RevokedAt != nil {
		t.Fatalf("a caller's change reached the cache: %+v", g)
	}
}

func TestCacheNotFreshAlwaysReadsTheStore(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	digest, g := f.store.put(domain.NewID(), user.RoleViewer)
	f.fresh.on.Store(false)
	for range 3 {
		f.wantRead(t, digest)
	}
	if n := f.cache.Len(); n != 0 {
		t.Fatalf("not fresh: %d grants cached, want none", n)
	}
	// Cached while fresh, then the lease lapses and the key is revoked with
	// no invalidation reaching this instance (its link to the feed is cut):
	// the store's answer is served, never the cached one.
	f.fresh.on.Store(true)
	f.wantRead(t, digest)
	f.wantHit(t, digest)
	f.fresh.on.Store(false)
	revoked := g
	at := t0
	revoked.Key.RevokedAt = &at
	f.store.set(digest, revoked)
	if got := f.wantRead(t, digest); got.Key.RevokedAt == nil {
		t.Fatal("not fresh: served the cached grant of a revoked key")
	}
}

func TestCacheNeverCachesUnknownKeysOrErrors(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	for range 3 {
		before := f.store.reads.Load()
		_, err := f.cache.GetByDigest(context.Background(), "unknown")
		wantErr(t, err, domain.ErrNotFound)
		if f.store.reads.Load() != before+1 {
			t.Fatal("an unknown key was answered without a store read")
		}
	}
	digest, _ := f.store.put(domain.NewID(), user.RoleViewer)
	f.store.fail = domain.Unavailable("test store", errors.New("down"))
	for range 3 {
		_, err := f.cache.GetByDigest(context.Background(), digest)
		wantErr(t, err, domain.ErrUnavailable)
	}
	if n := f.cache.Len(); n != 0 {
		t.Fatalf("%d entries cached from not-found and failed reads, want none", n)
	}
}

func TestCacheApplyForgetsTheKey(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	owner := domain.NewID()
	d1, g1 := f.store.put(owner, user.RoleEditor)
	d2, _ := f.store.put(owner, user.RoleEditor)
	f.wantRead(t, d1)
	f.wantRead(t, d2)
	f.cache.Apply(port.FeedEntry{KeyID: g1.Key.ID})
	f.wantRead(t, d1)
	f.wantHit(t, d2)
	f.wantHit(t, d1)
}

func TestCacheApplyForgetsEveryKeyOfTheOwner(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		entry func(owner string) port.FeedEntry
	}{
		{"owner entry", func(owner string) port.FeedEntry { return port.FeedEntry{OwnerID: owner} }},
		{"user revocation", func(owner string) port.FeedEntry {
			return port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeUser, ID: owner, NotBefore: t0, Until: t0.Add(time.Hour)}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCacheFixture(apikey.CacheSettings{})
			alice, bob := domain.NewID(), domain.NewID()
			a1, _ := f.store.put(alice, user.RoleAdmin)
			a2, _ := f.store.put(alice, user.RoleAdmin)
			b1, _ := f.store.put(bob, user.RoleAdmin)
			for _, d := range []string{a1, a2, b1} {
				f.wantRead(t, d)
			}
			f.cache.Apply(tt.entry(alice))
			f.wantRead(t, a1)
			f.wantRead(t, a2)
			f.wantHit(t, b1)
		})
	}
}

func TestCacheIgnoresTokenAndSessionRevocations(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	owner := domain.NewID()
	digest, _ := f.store.put(owner, user.RoleViewer)
	f.wantRead(t, digest)
	f.cache.Apply(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeToken, ID: owner, Until: t0.Add(time.Hour)}})
	f.cache.Apply(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeSession, ID: owner, Until: t0.Add(time.Hour)}})
	f.wantHit(t, digest)
	// An entry the cache cannot read (no key, owner or known revocation)
	// forgets everything rather than risk keeping what it meant.
	f.cache.Apply(port.FeedEntry{})
	f.wantRead(t, digest)
}

func TestCacheClearForgetsEverything(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	d1, _ := f.store.put(domain.NewID(), user.RoleViewer)
	d2, _ := f.store.put(domain.NewID(), user.RoleViewer)
	f.wantRead(t, d1)
	f.wantRead(t, d2)
	f.cache.Clear()
	if n := f.cache.Len(); n != 0 {
		t.Fatalf("after Clear: %d entries", n)
	}
	f.wantRead(t, d1)
	f.wantRead(t, d2)
}

// TestCacheFillRace is the Keycloak race: a read that began before a change
// committed returns the old row after the change's invalidation was
// applied. That fill must not be cached, or the old grant would be served
// until the TTL.
func TestCacheFillRace(t *testing.T) {
	t.Parallel()
	type change func(c *apikey.Cache, g port.KeyGrant)
	for _, tt := range []struct {
		name   string
		change change
		drops  bool
	}{
		{"key revoked", func(c *apikey.Cache, g port.KeyGrant) { c.Apply(port.FeedEntry{KeyID: g.Key.ID}) }, true},
		{"owner changed", func(c *apikey.Cache, g port.KeyGrant) { c.Apply(port.FeedEntry{OwnerID: g.Key.OwnerID}) }, true},
		{"owner cut off", func(c *apikey.Cache, g port.KeyGrant) {
			c.Apply(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeUser, ID: g.Key.OwnerID, NotBefore: t0, Until: t0.Add(time.Hour)}})
		}, true},
		{"reloaded", func(c *apikey.Cache, _ port.KeyGrant) { c.Clear() }, true},
		// A token revocation concerns no key: the fill stands.
		{"a token revoked", func(c *apikey.Cache, g port.KeyGrant) {
			c.Apply(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeToken, ID: g.Key.OwnerID, Until: t0.Add(time.Hour)}})
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCacheFixture(apikey.CacheSettings{})
			digest, old := f.store.put(domain.NewID(), user.RoleEditor)
			entered, release := make(chan struct{}), make(chan struct{})
			f.store.holdNext(func() { close(entered); <-release })
			got := make(chan *port.KeyGrant, 1)
			go func() {
				g, err := f.cache.GetByDigest(context.Background(), digest)
				if err != nil {
					t.Error(err)
				}
				got <- g
			}()
			<-entered // the read has the old row
			revoked := old
			at := t0
			revoked.Key.RevokedAt = &at
			f.store.set(digest, revoked) // the change commits...
			tt.change(f.cache, old)      // ...and its invalidation is applied
			close(release)
			if g := <-got; g == nil || g.Key.RevokedAt != nil {
				t.Fatalf("the racing read answered %+v; want the old row it read", g)
			}
			if !tt.drops {
				if g := f.wantHit(t, digest); g.Key.RevokedAt != nil {
					t.Fatal("unexpected grant")
				}
				return
			}
			if st := f.cache.Stats(); st.Entries != 0 || st.DroppedFills != 1 {
				t.Fatalf("stats = %+v, want the fill dropped and nothing cached", st)
			}
			if g := f.wantRead(t, digest); g.Key.RevokedAt == nil {
				t.Fatal("the old grant is still served")
			}
			f.wantHit(t, digest)
		})
	}
}

func TestCacheIsBounded(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{MaxEntries: 3})
	owner := domain.NewID()
	var digests []string
	for range 5 {
		d, _ := f.store.put(owner, user.RoleViewer)
		digests = append(digests, d)
		f.wantRead(t, d)
		if n := f.cache.Len(); n > 3 {
			t.Fatalf("%d entries cached, bound is 3", n)
		}
	}
	if st := f.cache.Stats(); st.Evictions != 2 || st.Entries != 3 {
		t.Fatalf("stats = %+v, want 2 evictions and 3 entries", st)
	}
	// The newest three stay, the oldest went first.
	for _, d := range digests[2:] {
		f.wantHit(t, d)
	}
	f.wantRead(t, digests[0])
	// The indexes followed the evictions: the owner's entry forgets exactly
	// what is held.
	f.cache.Apply(port.FeedEntry{OwnerID: owner})
	if n := f.cache.Len(); n != 0 {
		t.Fatalf("after the owner's invalidation: %d entries", n)
	}
}

func TestCacheTTL(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{TTL: time.Minute})
	digest, _ := f.store.put(domain.NewID(), user.RoleViewer)
	f.wantRead(t, digest)
	f.clock.Advance(time.Minute - time.Second)
	f.wantHit(t, digest)
	f.clock.Advance(time.Second)
	f.wantRead(t, digest) // a minute old: read again, and cached anew
	f.clock.Advance(time.Minute - time.Second)
	f.wantHit(t, digest)
}

func TestCacheDefaultsAndPassThrough(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{})
	digest, _ := f.store.put(domain.NewID(), user.RoleViewer)
	f.wantRead(t, digest)
	f.clock.Advance(apikey.DefaultCacheTTL - time.Nanosecond)
	f.wantHit(t, digest)
	f.clock.Advance(time.Nanosecond)
	f.wantRead(t, digest)
	if err := f.cache.TouchLastUsed(context.Background(), map[string]time.Time{"id": t0}); err != nil || f.store.touches.Load() != 1 {
		t.Fatalf("TouchLastUsed = %v after %d store calls, want it passed through once", err, f.store.touches.Load())
	}
	// No freshness function: never trusted.
	c := apikey.NewCache(f.store, f.clock, nil, apikey.CacheSettings{})
	for range 2 {
		before := f.store.reads.Load()
		if _, err := c.GetByDigest(context.Background(), digest); err != nil || f.store.reads.Load() != before+1 {
			t.Fatalf("a cache without freshness answered without reading the store (err %v)", err)
		}
	}
}

// TestCachedGrantsStillExpire: expiry and rotation grace are judged on the
// cached grant at request time, with no invalidation and no store read.
func TestCachedGrantsStillExpire(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	cache := apikey.NewCache(f.spy, f.clock, func() bool { return true }, apikey.CacheSettings{TTL: 24 * time.Hour})
	auth := apikey.NewAuthenticator(cache, f.clock, nil)
	owner := f.user(t, user.RoleViewer)
	expires := t0.Add(time.Hour)
	expiring := f.create(t, owner, apikey.CreateInput{ExpiresAt: &expires})
	graced := f.create(t, owner, apikey.CreateInput{})
	successor, err := f.svc.Rotate(context.Background(), owner, client, graced.Key.ID, apikey.RotateInput{GraceSeconds: 1800})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{expiring.Token.Secret(), graced.Token.Secret(), successor.Token.Secret()} {
		if _, err := authWith(auth, secret); err != nil {
			t.Fatalf("authenticate: %v", err)
		}
	}
	reads := f.spy.lookups.Load()
	f.clock.Advance(30 * time.Minute) // the grace is over
	if _, err := authWith(auth, graced.Token.Secret()); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("a rotated key past its grace: %v, want 401", err)
	}
	if _, err := authWith(auth, expiring.Token.Secret()); err != nil {
		t.Fatalf("a key before its expiry: %v", err)
	}
	f.clock.Advance(30 * time.Minute) // expired
	if _, err := authWith(auth, expiring.Token.Secret()); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("an expired key: %v, want 401", err)
	}
	if _, err := authWith(auth, successor.Token.Secret()); err != nil {
		t.Fatalf("the successor: %v", err)
	}
	if n := f.spy.lookups.Load(); n != reads {
		t.Fatalf("%d store reads after the fills, want none", n-reads)
	}
}

// TestCacheConcurrentUse runs lookups, fills and invalidations at once (for
// the race detector) and checks the bound throughout.
func TestCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(apikey.CacheSettings{MaxEntries: 8})
	owners := []string{domain.NewID(), domain.NewID(), domain.NewID()}
	var digests []string
	var grants []port.KeyGrant
	for i := range 16 {
		d, g := f.store.put(owners[i%len(owners)], user.RoleEditor)
		digests, grants = append(digests, d), append(grants, g)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				d := digests[(i*7+w)%len(digests)]
				if _, err := f.cache.GetByDigest(context.Background(), d); err != nil {
					t.Error(err)
					return
				}
				if f.cache.Len() > 8 {
					t.Error("bound exceeded")
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			switch i % 4 {
			case 0:
				f.cache.Apply(port.FeedEntry{KeyID: grants[i%len(grants)].Key.ID})
			case 1:
				f.cache.Apply(port.FeedEntry{OwnerID: owners[i%len(owners)]})
			case 2:
				f.fresh.on.Store(i%8 != 2)
			default:
				f.cache.Clear()
			}
		}
	})
	wg.Wait()
	if n := f.cache.Len(); n > 8 {
		t.Fatalf("%d entries, bound is 8", n)
	}
}

// The request path's cost with the cache warm, without and with contention:
//
//	go test -run '^$' -bench Cache -benchmem ./usecase/apikey/
func BenchmarkCacheHit(b *testing.B) {
	f := newCacheFixture(apikey.CacheSettings{})
	digest, _ := f.store.put(domain.NewID(), user.RoleEditor)
	ctx := context.Background()
	if _, err := f.cache.GetByDigest(ctx, digest); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.cache.GetByDigest(ctx, digest); err != nil {
			b.Fatal(err)
		}
	}
	if reads := f.store.reads.Load(); reads != 1 {
		b.Fatalf("%d store reads, want the one fill", reads)
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	f := newCacheFixture(apikey.CacheSettings{})
	var digests []string
	for range 64 {
		d, _ := f.store.put(domain.NewID(), user.RoleEditor)
		digests = append(digests, d)
	}
	ctx := context.Background()
	for _, d := range digests {
		if _, err := f.cache.GetByDigest(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := f.cache.GetByDigest(ctx, digests[i%len(digests)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
