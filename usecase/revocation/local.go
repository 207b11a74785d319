package revocation

import (
	"context"

	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// LocalGate is the hot path of an authenticated token request with no round
// trip (issue 14): the revocation check from the Follower's in-process set
// and the budget from an instance's leased slice (budget.Leased), and,
// while the Follower cannot prove it is caught up, the shared gate's one
// round trip exactly as before (fail closed when that store is down).
type LocalGate struct {
	Follower *Follower
	// Limiter spends the caller's budget, mostly locally (a leased slice).
	Limiter port.RateLimiter
	// Shared is the one-round-trip gate (the Redis script).
	Shared port.RequestGate
}

var _ port.RequestGate = LocalGate{}

// CheckAndSpend judges c locally when the Follower is fresh; a revoked
// token spends nothing.
func (g LocalGate) CheckAndSpend(ctx context.Context, c session.Claims, rateKey string) (port.RateDecision, error) {
	if err, ok := g.Follower.Check(ctx, c); ok {
		if err != nil {
			return port.RateDecision{}, err
		}
		return g.Limiter.Allow(ctx, rateKey)
	}
	return g.Shared.CheckAndSpend(ctx, c, rateKey)
}

// Invalidator is the multi-instance port.KeyInvalidator: it appends the
// entries to the feed and waits the Follower's lease (commit-wait), so that
// when the revoking call answers no instance serves the old grant from its
// cache. A publish that failed leaves caches possibly behind: the
// Rebuilder is told, which drops the epoch so that every instance reloads
// (and clears its caches) once the store is back.
type Invalidator struct {
	Feed      port.RevocationFeed
	Follower  *Follower
	Rebuilder *Rebuilder
}

var _ port.KeyInvalidator = Invalidator{}

// Invalidate publishes entries and waits the lease.
func (i Invalidator) Invalidate(ctx context.Context, entries ...port.FeedEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := i.Feed.Publish(ctx, entries...); err != nil {
		i.Rebuilder.Behind()
		return err
	}
	noteWrite(ctx, i.Follower.Lease())
	return nil
}
