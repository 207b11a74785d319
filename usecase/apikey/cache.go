package apikey

import (
	"container/list"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Defaults of CacheSettings.
const (
	DefaultCacheEntries = 10000
	DefaultCacheTTL     = time.Minute
)

// CacheSettings bound the positive cache of API-key grants.
type CacheSettings struct {
	// MaxEntries bounds the grants held (default DefaultCacheEntries); at
	// the bound a fill evicts the oldest.
	MaxEntries int
	// TTL bounds how long a grant is served without reading the store again
	// (default DefaultCacheTTL). It is a backstop: every change that alters
	// a grant reaches the cache through the feed long before.
	TTL time.Duration
}

// CacheStats are the cache's counters since it was made.
type CacheStats struct {
	// Hits were answered from the cache, Misses read the store (not fresh,
	// not cached, expired, or not found).
	Hits, Misses uint64
	// DroppedFills are store reads not cached because an invalidation
	// reached the cache while they were in flight (the fill race).
	DroppedFills uint64
	// Evictions are grants dropped to stay within MaxEntries.
	Evictions uint64
	// Entries is how many grants are held now.
	Entries int
}

// Cache is a positive cache of API-key grants in front of the store's
// digest lookup (contract §15): a request with a cached key reads nothing.
// It serves a grant only while fresh reports that this instance has
// provably applied every invalidation of the feed up to a bounded lag (the
// follower's lease, see revocation.Follower); when not fresh, every lookup
// reads the store, as if there were no cache.
//
// What may be stale is safe because of what is not cached and what is
// re-checked: unknown keys are never cached (no negative entries, so a new
// key works at once and a flood of random keys fills nothing), errors are
// never cached, and expiry and rotation grace are judged by the
// authenticator on the cached grant at request time (Key.Usable), so a key
// stops at its ExpiresAt or GraceUntil without any invalidation. Changes of
// the key or its owner (revoke, rotate, role, disable, delete) reach the
// cache through Apply: the use cases publish them after their commit and
// wait until every instance has applied them or stopped trusting its cache
// (port.KeyInvalidator).
//
// The fill race (a store read that began before a change committed, whose
// old answer would be cached after the change's invalidation was applied)
// is closed as Keycloak does: every invalidation bumps a generation under
// the cache's lock; a fill notes it before its read and is cached only if
// it is unchanged, checked under the same lock as the insert. A read that
// began after the invalidation was applied sees the committed change, as
// the change committed before its invalidation was published.
//
// Memory is bounded by MaxEntries grants; eviction is first in, first out
// (the oldest fill is also the first to expire), O(1).
type Cache struct {
	inner    port.APIKeyAuthStore
	clock    port.Clock
	fresh    func() bool
	max      int
	ttl      time.Duration
	hits     atomic.Uint64
	misses   atomic.Uint64
	dropped  atomic.Uint64
	evicted  atomic.Uint64
	mu       sync.RWMutex
	gen      uint64 // bumped by every invalidation that could touch a grant
	byDigest map[string]*cached
	byKey    map[string]*cached
	byOwner  map[string]map[*cached]struct{}
	order    *list.List // of *cached, oldest fill first
}

// cached is one grant and when the read that produced it began.
type cached struct {
	digest string
	grant  port.KeyGrant
	at     time.Time
	elem   *list.Element
}

var _ port.APIKeyAuthStore = (*Cache)(nil)

// NewCache returns a cache over inner. fresh tells whether the cache may be
// trusted right now (nil: never, so the cache reads through); clock dates
// the fills for the TTL.
func NewCache(inner port.APIKeyAuthStore, clock port.Clock, fresh func() bool, settings CacheSettings) *Cache {
	if settings.MaxEntries <= 0 {
		settings.MaxEntries = DefaultCacheEntries
	}
	if settings.TTL <= 0 {
		settings.TTL = DefaultCacheTTL
	}
	if fresh == nil {
		fresh = func() bool { return false }
	}
	c := &Cache{inner: inner, clock: clock, fresh: fresh, max: settings.MaxEntries, ttl: settings.TTL}
	c.reset()
	return c
}

func (c *Cache) reset() {
	c.byDigest = make(map[string]*cached)
	c.byKey = make(map[string]*cached)
	c.byOwner = make(map[string]map[*cached]struct{})
	c.order = list.New()
}

// GetByDigest answers from the cache when it is fresh and holds a grant for
// digest filled less than TTL ago; otherwise it reads the store, and caches
// what it found when the cache was fresh before the read and no
// invalidation arrived during it. The grant returned is the caller's own.
func (c *Cache) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	if !c.fresh() {
		c.misses.Add(1)
		return c.inner.GetByDigest(ctx, digest)
	}
	now := c.clock.Now()
	c.mu.RLock()
	if e, ok := c.byDigest[digest]; ok && now.Sub(e.at) < c.ttl {
		g := cloneGrant(&e.grant)
		c.mu.RUnlock()
		c.hits.Add(1)
		return g, nil
	}
	gen := c.gen // noted before the read: see the fill race above
	c.mu.RUnlock()
	c.misses.Add(1)
	g, err := c.inner.GetByDigest(ctx, digest)
	if err != nil {
		return nil, err // not found included: unknown keys are never cached
	}
	c.fill(digest, cloneGrant(g), now, gen)
	return g, nil
}

// fill caches g for digest, read from a start at at, unless an invalidation
// bumped the generation since gen was noted.
func (c *Cache) fill(digest string, g *port.KeyGrant, at time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		c.dropped.Add(1)
		return
	}
	if old, ok := c.byDigest[digest]; ok {
		c.removeLocked(old)
	}
	if old, ok := c.byKey[g.Key.ID]; ok {
		c.removeLocked(old)
	}
	// Expired fills sit at the front (first in, first out, one TTL): each
	// goes once, so this costs O(1) per fill amortised.
	for front := c.order.Front(); front != nil; front = c.order.Front() {
		if e := front.Value.(*cached); at.Sub(e.at) >= c.ttl {
			c.removeLocked(e)
			continue
		}
		break
	}
	for len(c.byDigest) >= c.max {
		c.removeLocked(c.order.Front().Value.(*cached))
		c.evicted.Add(1)
	}
	e := &cached{digest: digest, grant: *g, at: at}
	e.elem = c.order.PushBack(e)
	c.byDigest[digest] = e
	c.byKey[g.Key.ID] = e
	owner := c.byOwner[g.Key.OwnerID]
	if owner == nil {
		owner = make(map[*cached]struct{}, 1)
		c.byOwner[g.Key.OwnerID] = owner
	}
	owner[e] = struct{}{}
}

func (c *Cache) removeLocked(e *cached) {
	c.order.Remove(e.elem)
	delete(c.byDigest, e.digest)
	if c.byKey[e.grant.Key.ID] == e {
		delete(c.byKey, e.grant.Key.ID)
	}
	if owner := c.byOwner[e.grant.Key.OwnerID]; owner != nil {
		delete(owner, e)
		if len(owner) == 0 {
			delete(c.byOwner, e.grant.Key.OwnerID)
		}
	}
}

// Apply forgets what entry invalidates: the grant of its KeyID, every grant
// of its OwnerID or of the user of a RevokeUser revocation. Token and
// session revocations concern no API key: they leave the cache, and fills
// in flight, alone (refreshes revoke a token each, and must not starve the
// fills). An entry of a kind this cache does not know clears it.
func (c *Cache) Apply(entry port.FeedEntry) {
	var owners []string
	if entry.OwnerID != "" {
		owners = append(owners, entry.OwnerID)
	}
	switch entry.Revocation.Kind {
	case session.RevokeUser:
		owners = append(owners, entry.Revocation.ID)
	case session.RevokeToken, session.RevokeSession:
		if entry.KeyID == "" && len(owners) == 0 {
			return
		}
	default:
		if entry.KeyID == "" && len(owners) == 0 {
			c.Clear()
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if entry.KeyID != "" {
		if e, ok := c.byKey[entry.KeyID]; ok {
			c.removeLocked(e)
		}
	}
	for _, id := range owners {
		for e := range c.byOwner[id] {
			c.removeLocked(e)
		}
	}
}

// Clear forgets every grant and drops every fill in flight: the follower
// calls it when it could not follow the feed and reloaded.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.reset()
}

// TouchLastUsed writes through to the store.
func (c *Cache) TouchLastUsed(ctx context.Context, seen map[string]time.Time) error {
	return c.inner.TouchLastUsed(ctx, seen)
}

// Len returns how many grants the cache holds.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byDigest)
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), DroppedFills: c.dropped.Load(),
		Evictions: c.evicted.Load(), Entries: c.Len(),
	}
}

// cloneGrant returns a copy of g that shares no memory with it, so neither
// the cache nor its callers can change the other's grant.
func cloneGrant(g *port.KeyGrant) *port.KeyGrant {
	out := *g
	out.Key.Scopes = slices.Clone(g.Key.Scopes)
	for _, p := range []**time.Time{&out.Key.ExpiresAt, &out.Key.LastUsedAt, &out.Key.RevokedAt, &out.Key.GraceUntil} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	return &out
}
