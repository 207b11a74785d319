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

// countingGate is a shared gate over the shared denylist that counts its
// round trips.
type countingGate struct {
	deny  port.TokenDenylist
	calls atomic.Int64
}

func (g *countingGate) CheckAndSpend(ctx context.Context, c session.Claims, _ string) (port.RateDecision, error) {
	g.calls.Add(1)
	if err := g.deny.Check(ctx, c); err != nil {
		return port.RateDecision{}, err
	}
	return port.RateDecision{Allowed: true, Limit: 1}, nil
}

// countingLimiter counts the budget units spent locally.
type countingLimiter struct{ calls atomic.Int64 }

func (l *countingLimiter) Allow(context.Context, string) (port.RateDecision, error) {
	l.calls.Add(1)
	return port.RateDecision{Allowed: true, Limit: 2}, nil
}

// A fresh follower judges the token and the limiter spends its budget; a
// revoked token spends nothing; a follower that is not fresh hands the
// request to the shared gate whole.
func TestLocalGateAnswersInProcessOnlyWhileFresh(t *testing.T) {
	t.Parallel()
	fd := newFollowed(t, revocation.FollowSettings{Lease: 30 * time.Millisecond})
	shared, limiter := &countingGate{deny: fd.shared}, &countingLimiter{}
	g := revocation.LocalGate{Follower: fd.follower, Limiter: limiter, Shared: shared}
	ctx := context.Background()

	live, revoked := live(), live()
	if err := fd.deny.DenySession(ctx, revoked.SessionID, revoked.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	waitFresh(t, fd.follower)
	if d, err := g.CheckAndSpend(ctx, revoked, "user:x"); !errors.Is(err, domain.ErrUnauthenticated) || d.Allowed {
		t.Fatalf("revoked token: %+v, %v; want ErrUnauthenticated", d, err)
	}
	if limiter.calls.Load() != 0 {
		t.Fatal("a revoked token spent budget")
	}
	waitFresh(t, fd.follower)
	before := shared.calls.Load()
	d, err := g.CheckAndSpend(ctx, live, "user:x")
	if err != nil || !d.Allowed {
		t.Fatalf("live token: %+v, %v", d, err)
	}
	if d.Limit == 2 && shared.calls.Load() != before {
		t.Fatal("the local answer also asked the shared gate")
	}

	stale := revocation.LocalGate{Follower: revocation.NewFollower(fd.feed, fd.record,
		func() revocation.LocalSet { return memory.NewDenylist(memory.NewClock(time.Now())) }, revocation.FollowSettings{}, nil),
		Limiter: limiter, Shared: shared} // never started: never fresh
	spent := limiter.calls.Load()
	if d, err := stale.CheckAndSpend(ctx, live, "user:x"); err != nil || d.Limit != 1 {
		t.Fatalf("not fresh: %+v, %v; want the shared gate's answer", d, err)
	}
	if limiter.calls.Load() != spent {
		t.Fatal("not fresh, the local limiter was spent as well as the shared gate")
	}
}

// failingFeed refuses every publish.
type failingFeed struct{ port.RevocationFeed }

func (failingFeed) Publish(context.Context, ...port.FeedEntry) error {
	return domain.Unavailable("redis", errors.New("down"))
}

// The invalidator publishes and waits the lease before returning; a
// publish that failed is returned (the caller answers 503).
func TestInvalidatorPublishesThenWaitsTheLease(t *testing.T) {
	t.Parallel()
	fd := newFollowed(t, revocation.FollowSettings{Lease: 80 * time.Millisecond})
	inv := revocation.Invalidator{Feed: fd.feed, Follower: fd.follower}
	start := time.Now()
	if err := inv.Invalidate(context.Background(), port.FeedEntry{KeyID: "k1"}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 80*time.Millisecond {
		t.Fatalf("Invalidate returned after %v, before the lease", took)
	}
	select {
	case e := <-fd.entries:
		if e.KeyID != "k1" {
			t.Fatalf("the follower applied %+v, want the key entry", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follower never applied the published entry")
	}
	bad := revocation.Invalidator{Feed: failingFeed{fd.feed}, Follower: fd.follower}
	if err := bad.Invalidate(context.Background(), port.FeedEntry{KeyID: "k2"}); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("a failed publish = %v, want ErrUnavailable", err)
	}
}
