package revocation_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/revocation"
)

var base = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

func claims() session.Claims {
	return session.Claims{
		TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(),
		IssuedAt: base, NotBefore: base, ExpiresAt: base.Add(15 * time.Minute),
	}
}

// failingRecord refuses every write, as Postgres does when it is down.
type failingRecord struct{ port.RevocationRecord }

func (failingRecord) Revoke(context.Context, session.Revocation) error {
	return domain.Unavailable("postgres", errors.New("down"))
}

func (failingRecord) ClaimRefresh(context.Context, string, string, time.Time) error {
	return domain.Unavailable("postgres", errors.New("down"))
}

// Every denial reaches the record, and a rebuild of an empty cache from that
// record alone enforces all of them: the record holds everything.
func TestEveryDenialIsRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	rec := memory.NewRevocationRecord()
	d := revocation.NewDenylist(rec, memory.NewDenylist(clock), nil)
	byToken, bySession, byUser, refreshed := claims(), claims(), claims(), claims()
	until := base.Add(16 * time.Minute)
	for _, err := range []error{
		d.DenyToken(ctx, byToken.TokenID, until),
		d.DenySession(ctx, bySession.SessionID, until),
		d.DenyUserBefore(ctx, byUser.UserID, base.Add(time.Second), until),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.ClaimRefresh(ctx, refreshed.TokenID, "successor-token", 10*time.Second, until); err != nil {
		t.Fatal(err)
	}
	fresh := memory.NewDenylist(clock) // the cache after a loss
	if err := fresh.Rebuild(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]session.Claims{"token": byToken, "session": bySession, "user": byUser, "refreshed": refreshed} {
		if err := fresh.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("%s: rebuilt from the record, Check = %v, want ErrUnauthenticated", name, err)
		}
	}
	var successor string
	_ = rec.InForce(ctx, base, func(r session.Revocation) error {
		if r.ID == refreshed.TokenID {
			successor = r.Successor
		}
		return nil
	})
	if successor == "" || successor == "successor-token" {
		t.Fatalf("recorded successor %q: want a digest, never the token itself", successor)
	}
}

// A denial the record refused is not made in the cache either, and the call
// fails: the revoking call never answers success without the durable copy.
func TestADenialTheRecordRefusedFailsTheCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	cache := memory.NewDenylist(clock)
	d := revocation.NewDenylist(failingRecord{memory.NewRevocationRecord()}, cache, nil)
	c := claims()
	until := base.Add(time.Hour)
	for name, err := range map[string]error{
		"DenyToken":      d.DenyToken(ctx, c.TokenID, until),
		"DenySession":    d.DenySession(ctx, c.SessionID, until),
		"DenyUserBefore": d.DenyUserBefore(ctx, c.UserID, base.Add(time.Second), until),
	} {
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s with the record down = %v, want ErrUnavailable", name, err)
		}
	}
	if err := cache.Check(ctx, c); err != nil {
		t.Fatalf("the cache holds a denial the record does not: %v", err)
	}
	if _, err := d.ClaimRefresh(ctx, c.TokenID, "successor", 10*time.Second, until); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("ClaimRefresh with the record down = %v, want ErrUnavailable (no successor handed out)", err)
	}
}

// The racers inside the grace get the winner's successor, and the record
// accepts it again; a successor the cache forgot (the record holds another
// one) is refused.
func TestRefreshClaimIsRecordedOnceAndForAll(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	rec := memory.NewRevocationRecord()
	d := revocation.NewDenylist(rec, memory.NewDenylist(clock), nil)
	c := claims()
	until := c.ExpiresAt
	first, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, until)
	if err != nil || first != "successor-A" {
		t.Fatalf("first claim = %q, %v", first, err)
	}
	again, err := d.ClaimRefresh(ctx, c.TokenID, "successor-B", 10*time.Second, until)
	if err != nil || again != "successor-A" {
		t.Fatalf("claim inside the grace = %q, %v; want the winner's successor", again, err)
	}
	// A cache that lost the claim (and the jti's denial) would let a second
	// successor through; the record refuses it.
	forgetful := revocation.NewDenylist(rec, memory.NewDenylist(clock), nil)
	if _, err := forgetful.ClaimRefresh(ctx, c.TokenID, "successor-C", 10*time.Second, until); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("second successor past a forgetful cache = %v, want ErrUnauthenticated", err)
	}
}

// coldCache is a RevocationCache that starts cold and becomes ready when
// rebuilt; Check answers as a cold Redis does until then.
type coldCache struct {
	*memory.Denylist
	ready    atomic.Bool
	rebuilds atomic.Int64
	mu       sync.Mutex
}

func (c *coldCache) Ready(context.Context) error {
	if !c.ready.Load() {
		return domain.Unavailable("redis", port.ErrDenylistCold)
	}
	return nil
}

func (c *coldCache) Check(ctx context.Context, cl session.Claims) error {
	if err := c.Ready(ctx); err != nil {
		return err
	}
	return c.Denylist.Check(ctx, cl)
}

func (c *coldCache) Rebuild(ctx context.Context, rec port.RevocationRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rebuilds.Add(1)
	if err := c.Denylist.Rebuild(ctx, rec); err != nil {
		return err
	}
	c.ready.Store(true)
	return nil
}

// A check that finds the cache cold wakes the rebuild loop at once (long
// before its watch would), and one rebuild makes it ready.
func TestColdCheckStartsTheRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	cache := &coldCache{Denylist: memory.NewDenylist(clock)}
	rec := memory.NewRevocationRecord()
	revoked := claims()
	if err := rec.Revoke(ctx, session.Revocation{Kind: session.RevokeSession, ID: revoked.SessionID, Until: revoked.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	outcomes := make(chan revocation.Outcome, 4)
	r := revocation.NewRebuilder(cache, rec, clock, revocation.Settings{Watch: time.Hour}, func(o revocation.Outcome) { outcomes <- o })
	d := revocation.NewDenylist(rec, cache, r)
	r.Start()
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	if err := d.Check(ctx, claims()); !errors.Is(err, port.ErrDenylistCold) {
		t.Fatalf("Check on a cold cache = %v, want ErrDenylistCold", err)
	}
	select {
	case o := <-outcomes:
		if !o.Rebuilt || o.Err != nil {
			t.Fatalf("outcome %+v, want a rebuild", o)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cold check did not start a rebuild")
	}
	if err := d.Check(ctx, claims()); err != nil {
		t.Fatalf("live token after the rebuild: %v", err)
	}
	if err := d.Check(ctx, revoked); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("revoked session after the rebuild: %v", err)
	}
	if err := r.EnsureReady(ctx); err != nil || cache.rebuilds.Load() != 1 {
		t.Fatalf("EnsureReady on a ready cache = %v after %d rebuilds, want nil after 1", err, cache.rebuilds.Load())
	}
}

// EnsureReady (at start) rebuilds a cold cache before returning.
func TestEnsureReadyRebuildsAColdCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	cache := &coldCache{Denylist: memory.NewDenylist(clock)}
	r := revocation.NewRebuilder(cache, memory.NewRevocationRecord(), clock, revocation.Settings{}, nil)
	if err := r.EnsureReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cache.Ready(ctx); err != nil {
		t.Fatalf("after EnsureReady: %v", err)
	}
}

// The loop purges what is no longer in force from the record.
func TestRebuilderPurgesExpiredRevocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	rec := memory.NewRevocationRecord()
	for _, until := range []time.Time{base.Add(-time.Minute), base.Add(time.Hour)} {
		if err := rec.Revoke(ctx, session.Revocation{Kind: session.RevokeToken, ID: domain.NewID(), Until: until}); err != nil {
			t.Fatal(err)
		}
	}
	purged := make(chan int64, 16)
	r := revocation.NewRebuilder(memory.NewDenylist(clock), rec, clock, revocation.Settings{Purge: 10 * time.Millisecond},
		func(o revocation.Outcome) {
			if !o.Rebuilt {
				purged <- o.Purged
			}
		})
	r.Start()
	t.Cleanup(func() { _ = r.Stop(context.Background()) })
	select {
	case n := <-purged:
		if n != 1 {
			t.Fatalf("first purge deleted %d, want 1 (the expired one)", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no purge ran")
	}
	left := 0
	_ = rec.InForce(ctx, base.Add(-time.Hour), func(session.Revocation) error { left++; return nil })
	if left != 1 {
		t.Fatalf("%d revocations left, want the live one", left)
	}
}

// downRecord cannot be read, as Postgres when it is down, and counts tries.
type downRecord struct {
	port.RevocationRecord
	reads atomic.Int64
}

func (r *downRecord) InForce(context.Context, time.Time, func(session.Revocation) error) error {
	r.reads.Add(1)
	return domain.Unavailable("postgres", errors.New("down"))
}

// With the record down, a cold cache is retried once per watch, however
// many checks ask for a rebuild meanwhile.
func TestAFailingRebuildIsRetriedOncePerWatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	cache := &coldCache{Denylist: memory.NewDenylist(clock)}
	rec := &downRecord{RevocationRecord: memory.NewRevocationRecord()}
	failures := atomic.Int64{}
	r := revocation.NewRebuilder(cache, rec, clock, revocation.Settings{Watch: 200 * time.Millisecond},
		func(o revocation.Outcome) {
			if o.Err != nil {
				failures.Add(1)
			}
		})
	d := revocation.NewDenylist(rec, cache, r)
	r.Start()
	for range 60 { // 600 ms of checks, each asking for a rebuild
		_ = d.Check(ctx, claims())
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rec.reads.Load(); n < 1 || n > 5 {
		t.Fatalf("%d rebuild attempts in 600 ms with a 200 ms watch, want 1 to 5", n)
	}
	if failures.Load() != rec.reads.Load() {
		t.Fatalf("%d failures observed for %d attempts", failures.Load(), rec.reads.Load())
	}
}

func (c *coldCache) Invalidate(context.Context) error {
	c.ready.Store(false)
	return nil
}

// flakyCache fails its next session denial, as Redis does on a timeout.
type flakyCache struct {
	*coldCache
	fail atomic.Bool
}

func (c *flakyCache) DenySession(ctx context.Context, sid string, until time.Time) error {
	if c.fail.CompareAndSwap(true, false) {
		return domain.Unavailable("redis", errors.New("i/o timeout"))
	}
	return c.coldCache.DenySession(ctx, sid, until)
}

// A denial that reached the record but not the cache leaves the cache
// behind: it is invalidated (every check fails closed) and rebuilt, after
// which the denial holds.
func TestACacheWriteThatFailedMakesTheCacheRebuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := memory.NewClock(base)
	cache := &flakyCache{coldCache: &coldCache{Denylist: memory.NewDenylist(clock)}}
	rec := memory.NewRevocationRecord()
	rebuilt := make(chan struct{}, 4)
	r := revocation.NewRebuilder(cache, rec, clock, revocation.Settings{Watch: time.Hour}, func(o revocation.Outcome) {
		if o.Rebuilt {
			rebuilt <- struct{}{}
		}
	})
	if err := r.EnsureReady(ctx); err != nil {
		t.Fatal(err)
	}
	<-rebuilt
	d := revocation.NewDenylist(rec, cache, r)
	r.Start()
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	c := claims()
	cache.fail.Store(true)
	if err := d.DenySession(ctx, c.SessionID, c.ExpiresAt); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("DenySession with the cache failing = %v, want ErrUnavailable", err)
	}
	select {
	case <-rebuilt:
	case <-time.After(5 * time.Second):
		t.Fatal("the cache left behind was not rebuilt")
	}
	if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("the denial the cache missed, after the rebuild: Check = %v, want ErrUnauthenticated", err)
	}
	if cache.rebuilds.Load() != 2 {
		t.Fatalf("%d rebuilds, want 2 (start, then after the failed write)", cache.rebuilds.Load())
	}
}
