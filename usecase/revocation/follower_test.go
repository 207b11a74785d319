package revocation_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/revocation"
)

// followed is a revocation.Denylist with a Follower over a memory feed, as
// the multi-instance mode wires it, and the shared cache it falls back to.
type followed struct {
	deny     *revocation.Denylist
	follower *revocation.Follower
	feed     *memory.Feed
	record   *memory.RevocationRecord
	shared   port.TokenDenylist
	entries  chan port.FeedEntry
	clears   chan struct{}
}

func newFollowed(t *testing.T, settings revocation.FollowSettings) *followed {
	t.Helper()
	clock := memory.NewClock(time.Now())
	feed := memory.NewFeed(clock)
	rec := memory.NewRevocationRecord()
	shared := feed.Denylist(memory.NewDenylist(clock))
	f := revocation.NewFollower(feed, rec, func() revocation.LocalSet { return memory.NewDenylist(clock) }, settings, nil)
	fd := &followed{
		follower: f, feed: feed, record: rec, shared: shared,
		entries: make(chan port.FeedEntry, 100), clears: make(chan struct{}, 10),
	}
	f.Subscribe(func(e port.FeedEntry) { fd.entries <- e }, func() { fd.clears <- struct{}{} })
	fd.deny = revocation.NewDenylist(rec, shared, nil).WithFollower(f)
	f.Start()
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
	waitFresh(t, f)
	return fd
}

func waitFresh(t *testing.T, f *revocation.Follower) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f.Fresh() {
		if time.Now().After(deadline) {
			t.Fatal("the follower did not become fresh")
		}
		time.Sleep(time.Millisecond)
	}
}

func live() session.Claims {
	now := time.Now()
	return session.Claims{
		TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(),
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(15 * time.Minute),
	}
}

// A revoking call returns only after the lease, and by then the follower
// has applied it: a check after the call answers never accepts the token.
func TestARevocationIsInForceLocallyWhenTheCallReturns(t *testing.T) {
	t.Parallel()
	fd := newFollowed(t, revocation.FollowSettings{Lease: 50 * time.Millisecond})
	ctx := context.Background()
	for range 50 {
		c := live()
		if err := fd.deny.Check(ctx, c); err != nil {
			t.Fatalf("live token: %v", err)
		}
		start := time.Now()
		if err := fd.deny.DenySession(ctx, c.SessionID, c.ExpiresAt); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 50*time.Millisecond {
			t.Fatalf("DenySession returned after %v, before the 50 ms lease", took)
		}
		if err := fd.deny.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("Check after the revoking call answered = %v, want ErrUnauthenticated", err)
		}
	}
}

// Within a request's Commit the writes do not wait one by one: the request
// waits once, for the last.
func TestACommitWaitsOnceForEveryWriteOfTheRequest(t *testing.T) {
	t.Parallel()
	fd := newFollowed(t, revocation.FollowSettings{Lease: 200 * time.Millisecond})
	ctx, commit := revocation.WithCommit(context.Background())
	start := time.Now()
	claims := make([]session.Claims, 5)
	for i := range claims {
		claims[i] = live()
		if err := fd.deny.DenySession(ctx, claims[i].SessionID, claims[i].ExpiresAt); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took >= time.Second {
		t.Fatalf("5 writes in a Commit took %v: they waited one by one", took)
	}
	commit.Wait(context.Background())
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Fatalf("Commit.Wait returned after %v, before the lease", took)
	}
	for _, c := range claims {
		if err := fd.deny.Check(context.Background(), c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("after the commit: %v", err)
		}
	}
}

// blockedFeed is a feed whose reads stop answering while cut (a
// partition): Follow blocks until the cut heals, then fails as a broken
// connection does.
type blockedFeed struct {
	*memory.Feed
	cut atomic.Bool
}

func (b *blockedFeed) Follow(ctx context.Context, from port.FeedPosition, block time.Duration) ([]port.FeedEntry, port.FeedPosition, error) {
	if !b.cut.Load() {
		return b.Feed.Follow(ctx, from, block)
	}
	for b.cut.Load() && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	return nil, from, domain.Unavailable("feed", errors.New("connection reset"))
}

// A follower whose reads stop answering stops trusting its set within the
// lease, and every check goes to the shared store.
func TestAPartitionedFollowerStopsTrustingItsSet(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Now())
	feed := &blockedFeed{Feed: memory.NewFeed(clock)}
	f := revocation.NewFollower(feed, memory.NewRevocationRecord(), func() revocation.LocalSet { return memory.NewDenylist(clock) },
		revocation.FollowSettings{Lease: 40 * time.Millisecond}, nil)
	f.Start()
	t.Cleanup(func() { _ = f.Stop(context.Background()) })
	waitFresh(t, f)
	feed.cut.Store(true)
	time.Sleep(200 * time.Millisecond) // the read in flight may end; the next one blocks
	if _, ok := f.Check(context.Background(), live()); ok {
		t.Fatal("a follower whose reads do not answer still trusts its set")
	}
}

// A gap (the feed was trimmed past the position unread, or lost its
// memory) makes the follower reload from the record, clear its
// subscribers, and enforce what it had missed.
func TestAGapReloadsFromTheRecord(t *testing.T) {
	t.Parallel()
	for name, gap := range map[string]func(*memory.Feed){"trimmed": (*memory.Feed).Trim, "lost": (*memory.Feed).Lose} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := memory.NewClock(time.Now())
			inner := memory.NewFeed(clock)
			feed := &blockedFeed{Feed: inner}
			rec := memory.NewRevocationRecord()
			f := revocation.NewFollower(feed, rec, func() revocation.LocalSet { return memory.NewDenylist(clock) },
				revocation.FollowSettings{Lease: 40 * time.Millisecond, Retry: 10 * time.Millisecond}, nil)
			clears := make(chan struct{}, 10)
			f.Subscribe(nil, func() { clears <- struct{}{} })
			f.Start()
			t.Cleanup(func() { _ = f.Stop(context.Background()) })
			waitFresh(t, f)
			<-clears // the first load
			// Cut the follower off, revoke (record, then feed), lose the entry.
			feed.cut.Store(true)
			time.Sleep(100 * time.Millisecond)
			c := live()
			r := session.Revocation{Kind: session.RevokeSession, ID: c.SessionID, Until: c.ExpiresAt}
			if err := rec.Revoke(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			shared := inner.Denylist(memory.NewDenylist(clock))
			if err := shared.DenySession(context.Background(), c.SessionID, c.ExpiresAt); err != nil {
				t.Fatal(err)
			}
			gap(inner)
			if _, ok := f.Check(context.Background(), c); ok {
				t.Fatal("a cut-off follower still trusts its set")
			}
			feed.cut.Store(false) // heal: reads answer again
			select {
			case <-clears:
			case <-time.After(5 * time.Second):
				t.Fatal("no reload after the gap")
			}
			waitFresh(t, f)
			if err, ok := f.Check(context.Background(), c); !ok || !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("the revocation the feed lost, after the reload: %v, %v", err, ok)
			}
		})
	}
}
