package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// RateLimits is the budget the rate-limit suites run with: one request a
// minute, so no unit comes back while a suite runs (stores that keep time
// by their own clock, such as Redis, cannot be moved), and a burst of 3.
const (
	suitePerMinute = 1
	suiteBurst     = 3
)

// RateLimiter runs the contract of port.RateLimiter. newLimiter returns a
// limiter of suitePerMinute and suiteBurst whose budgets start full.
func RateLimiter(t *testing.T, newLimiter func(t *testing.T, clock *memory.Clock, perMinute, burst int) port.RateLimiter) {
	ctx := context.Background()

	t.Run("exactly burst requests pass from idle, then every one is denied with Retry-After", func(t *testing.T) {
		l := newLimiter(t, memory.NewClock(base), suitePerMinute, suiteBurst)
		key := "user:" + domain.NewID()
		for i := range suiteBurst {
			d, err := l.Allow(ctx, key)
			noErr(t, err)
			if !d.Allowed || d.Limit != suitePerMinute || d.Remaining != suiteBurst-1-i || d.ResetAfter <= 0 {
				t.Fatalf("request %d: %+v, want allowed with %d remaining", i+1, d, suiteBurst-1-i)
			}
		}
		for i := range 3 {
			d, err := l.Allow(ctx, key)
			noErr(t, err)
			if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 {
				t.Fatalf("request %d past the burst: %+v, want denied with a RetryAfter", suiteBurst+i+1, d)
			}
		}
	})

	t.Run("keys are separate budgets", func(t *testing.T) {
		l := newLimiter(t, memory.NewClock(base), suitePerMinute, suiteBurst)
		a, b := "user:"+domain.NewID(), "ip:"+domain.NewID()
		for range suiteBurst {
			_, err := l.Allow(ctx, a)
			noErr(t, err)
		}
		d, err := l.Allow(ctx, b)
		noErr(t, err)
		if !d.Allowed || d.Remaining != suiteBurst-1 {
			t.Fatalf("first request of another key: %+v, want a full budget", d)
		}
	})

	t.Run("concurrent requests never overshoot the burst", func(t *testing.T) {
		l := newLimiter(t, memory.NewClock(base), suitePerMinute, suiteBurst)
		key := "key:" + domain.NewID()
		got, errs := allAtOnce(20, func(int) (port.RateDecision, error) { return l.Allow(ctx, key) })
		allowed := 0
		for i, d := range got {
			noErr(t, errs[i])
			if d.Allowed {
				allowed++
			}
		}
		if allowed != suiteBurst {
			t.Fatalf("%d of 20 concurrent requests passed, want exactly the burst %d", allowed, suiteBurst)
		}
	})
}

// RequestGates are a gate under test and the denylist and limiter it must
// agree with (same store, same budgets).
type RequestGates struct {
	Gate     port.RequestGate
	Denylist port.TokenDenylist
	Limiter  port.RateLimiter
}

// RequestGate runs the contract of port.RequestGate with budgets of
// suitePerMinute and suiteBurst.
func RequestGate(t *testing.T, newGates func(t *testing.T, clock *memory.Clock, perMinute, burst int) RequestGates) {
	ctx := context.Background()

	t.Run("a live token spends the budget the limiter spends", func(t *testing.T) {
		g := newGates(t, memory.NewClock(base), suitePerMinute, suiteBurst)
		c, key := claimsAt(base, 15*time.Minute), "user:"+domain.NewID()
		_, err := g.Limiter.Allow(ctx, key)
		noErr(t, err)
		d, err := g.Gate.CheckAndSpend(ctx, c, key)
		noErr(t, err)
		if !d.Allowed || d.Remaining != suiteBurst-2 {
			t.Fatalf("gate after one limiter spend: %+v, want allowed with %d remaining", d, suiteBurst-2)
		}
		for range suiteBurst - 2 {
			_, err = g.Gate.CheckAndSpend(ctx, c, key)
			noErr(t, err)
		}
		d, err = g.Gate.CheckAndSpend(ctx, c, key)
		noErr(t, err)
		if d.Allowed || d.RetryAfter <= 0 {
			t.Fatalf("gate past the burst: %+v, want denied", d)
		}
	})

	t.Run("a revoked token is refused and spends nothing", func(t *testing.T) {
		g := newGates(t, memory.NewClock(base), suitePerMinute, suiteBurst)
		c, key := claimsAt(base, 15*time.Minute), "user:"+domain.NewID()
		noErr(t, g.Denylist.DenySession(ctx, c.SessionID, base.Add(time.Hour)))
		for range suiteBurst + 2 {
			_, err := g.Gate.CheckAndSpend(ctx, c, key)
			wantErr(t, err, domain.ErrUnauthenticated)
		}
		d, err := g.Limiter.Allow(ctx, key)
		noErr(t, err)
		if !d.Allowed || d.Remaining != suiteBurst-1 {
			t.Fatalf("budget after refused requests: %+v, want it untouched", d)
		}
	})

	t.Run("a token without jti, sid or subject is refused", func(t *testing.T) {
		g := newGates(t, memory.NewClock(base), suitePerMinute, suiteBurst)
		c := claimsAt(base, 15*time.Minute)
		c.TokenID = ""
		_, err := g.Gate.CheckAndSpend(ctx, c, "user:"+domain.NewID())
		wantErr(t, err, domain.ErrUnauthenticated)
	})
}
