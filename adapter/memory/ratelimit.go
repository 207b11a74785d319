package memory

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// RateLimiter is the in-process GCRA request budget of the embedded mode
// (contract §10, one instance): each budget is its theoretical arrival time
// (TAT), judged by the injected clock, exactly as the Redis limiter's
// script judges it. A request at now passes when TAT − now ≤ τ and moves
// the TAT to max(TAT, now) + T; from idle exactly burst requests pass, then
// one per T; a denied request spends nothing. A budget whose TAT has passed
// is full again and says nothing, so sweeps drop it: memory is bounded by
// the callers of the last minute or so.
type RateLimiter struct {
	clock     port.Clock
	perMinute int
	interval  time.Duration // T = 1 min / perMinute
	tolerance time.Duration // τ = T × (burst − 1)

	mu     sync.Mutex
	tats   map[string]time.Time
	writes int
}

var _ port.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter allowing perMinute requests a minute per
// key, burst of them at once.
func NewRateLimiter(clock port.Clock, perMinute, burst int) (*RateLimiter, error) {
	if perMinute < 1 || burst < 1 {
		return nil, fmt.Errorf("rate limiter: requests per minute and burst must be at least 1, got %d and %d", perMinute, burst)
	}
	interval := max(time.Minute/time.Duration(perMinute), time.Microsecond)
	return &RateLimiter{
		clock: clock, perMinute: perMinute, interval: interval, tolerance: interval * time.Duration(burst-1),
		tats: make(map[string]time.Time),
	}, nil
}

// Allow spends one unit of key's budget.
func (l *RateLimiter) Allow(ctx context.Context, key string) (port.RateDecision, error) {
	lease, err := l.Lease(ctx, key, 1)
	return lease.Decision, err
}

// LeaseValidity is the longest a lease handed out by Lease may be held (its
// ValidFor), as the Redis limiter's: callers hold their slices for less.
const LeaseValidity = time.Second

var _ port.BudgetLeaser = (*RateLimiter)(nil)

// Lease spends up to want units of key's budget at once, as the Redis
// limiter's lease script does: from a TAT ahead of now by ahead ≤ τ, the
// units that conform now are c = ⌊(τ − ahead) / T⌋ + 1; n = min(want, c) of
// them are granted, as n requests arriving together now, and the TAT moves
// by n × T. Decision.Remaining is c − n; a budget with nothing that
// conforms grants 0 with RetryAfter. want below 1 is taken as 1 (and Allow
// is exactly a lease of one).
func (l *RateLimiter) Lease(ctx context.Context, key string, want int) (port.BudgetLease, error) {
	if err := ctx.Err(); err != nil {
		return port.BudgetLease{}, domain.Unavailable("rate limiter", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaseLocked(key, now, max(want, 1)), nil
}

func (l *RateLimiter) leaseLocked(key string, now time.Time, want int) port.BudgetLease {
	tat, ok := l.tats[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	ahead := tat.Sub(now)
	if ahead > l.tolerance {
		return port.BudgetLease{ValidFor: LeaseValidity, Decision: port.RateDecision{
			Limit: l.perMinute, RetryAfter: ahead - l.tolerance, ResetAfter: ahead,
		}}
	}
	conforming := int((l.tolerance-ahead)/l.interval) + 1
	n := min(want, conforming)
	next := tat.Add(l.interval * time.Duration(n))
	l.tats[key] = next
	l.writes++
	if l.writes%sweepEvery == 0 {
		for k, t := range l.tats {
			if !t.After(now) {
				delete(l.tats, k)
			}
		}
	}
	return port.BudgetLease{Granted: n, ValidFor: LeaseValidity, Decision: port.RateDecision{
		Allowed: true, Limit: l.perMinute,
		Remaining:  conforming - n,
		ResetAfter: next.Sub(now),
	}}
}

// Gate is the in-process port.RequestGate of the embedded mode: the
// denylist's Check and the principal's budget, both in memory, so an
// authenticated JWT request never leaves the process. A revoked token
// spends nothing. Check and spend are not one atomic step here (they need
// not be: a revocation that lands between them only lets a request that
// was already past Check spend one unit, as it would have a moment
// earlier).
type Gate struct {
	deny  port.TokenDenylist
	limit *RateLimiter
}

var _ port.RequestGate = (*Gate)(nil)

// NewGate returns a gate over deny and limit (the limiter's budgets, so one
// budget per principal whichever of the two spends it).
func NewGate(deny port.TokenDenylist, limit *RateLimiter) *Gate {
	return &Gate{deny: deny, limit: limit}
}

// CheckAndSpend answers as deny.Check would and, when the token may be used,
// spends one unit of rateKey's budget (a principal budget, never "ip:").
func (g *Gate) CheckAndSpend(ctx context.Context, c session.Claims, rateKey string) (port.RateDecision, error) {
	if strings.HasPrefix(rateKey, "ip:") {
		return port.RateDecision{}, domain.Internal(fmt.Errorf("gate: %q is not a principal budget", rateKey))
	}
	if err := g.deny.Check(ctx, c); err != nil {
		return port.RateDecision{}, err
	}
	return g.limit.Allow(ctx, rateKey)
}
