package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// leaseSuiteBurst is the burst the lease suite runs with (at suitePerMinute,
// one a minute, so no unit comes back while it runs).
const leaseSuiteBurst = 5

// BudgetLeasers are a leaser under test and the limiter whose budgets it
// hands out (same store, same keys, same GCRA).
type BudgetLeasers struct {
	Leaser  port.BudgetLeaser
	Limiter port.RateLimiter
}

// BudgetLeaser runs the contract of port.BudgetLeaser. newLeasers returns a
// leaser and its limiter of perMinute and burst whose budgets start full,
// judged by clock when the store keeps no time of its own (Redis ignores
// it: the suite never moves it).
func BudgetLeaser(t *testing.T, newLeasers func(t *testing.T, clock *memory.Clock, perMinute, burst int) BudgetLeasers) {
	ctx := context.Background()
	const b = leaseSuiteBurst
	interval := time.Minute / suitePerMinute
	lease := func(t *testing.T, l port.BudgetLeaser, key string, want int) port.BudgetLease {
		t.Helper()
		got, err := l.Lease(ctx, key, want)
		noErr(t, err)
		if got.Decision.Limit != suitePerMinute {
			t.Fatalf("lease of %d: Limit %d, want %d", want, got.Decision.Limit, suitePerMinute)
		}
		return got
	}
	wantGranted := func(t *testing.T, got port.BudgetLease, granted, remaining int) {
		t.Helper()
		d := got.Decision
		if got.Granted != granted || !d.Allowed || d.Remaining != remaining || d.RetryAfter != 0 || got.ValidFor <= 0 {
			t.Fatalf("lease: %+v, want %d granted, allowed, %d remaining, a validity", got, granted, remaining)
		}
	}
	wantEmpty := func(t *testing.T, got port.BudgetLease) {
		t.Helper()
		d := got.Decision
		// Coarse on time: Redis's clock runs while the suite does.
		if got.Granted != 0 || d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfter > interval {
			t.Fatalf("lease of an empty budget: %+v, want 0 granted, denied, a RetryAfter in (0, %v]", got, interval)
		}
	}

	t.Run("a lease from a full budget grants min(want, burst) and spends them", func(t *testing.T) {
		l := newLeasers(t, memory.NewClock(base), suitePerMinute, b)
		key := "user:" + domain.NewID()
		got := lease(t, l.Leaser, key, 2)
		wantGranted(t, got, 2, b-2)
		// From a full budget the TAT moves from now by exactly 2 × T.
		if r := got.Decision.ResetAfter; r > 2*interval || r <= interval {
			t.Fatalf("ResetAfter %v after a lease of 2, want in (%v, %v]", r, interval, 2*interval)
		}
		other := "key:" + domain.NewID()
		wantGranted(t, lease(t, l.Leaser, other, 10*b), b, 0)
	})

	t.Run("want below 1 is taken as 1", func(t *testing.T) {
		l := newLeasers(t, memory.NewClock(base), suitePerMinute, b)
		key := "user:" + domain.NewID()
		wantGranted(t, lease(t, l.Leaser, key, 0), 1, b-1)
		wantGranted(t, lease(t, l.Leaser, key, -3), 1, b-2)
	})

	t.Run("near the limit the grant shrinks to what is left, then to nothing", func(t *testing.T) {
		l := newLeasers(t, memory.NewClock(base), suitePerMinute, b)
		key := "user:" + domain.NewID()
		wantGranted(t, lease(t, l.Leaser, key, b-2), b-2, 2)
		wantGranted(t, lease(t, l.Leaser, key, 4), 2, 0)
		wantEmpty(t, lease(t, l.Leaser, key, 4))
		wantEmpty(t, lease(t, l.Leaser, key, 1))
	})

	t.Run("a lease and Allow spend one budget", func(t *testing.T) {
		l := newLeasers(t, memory.NewClock(base), suitePerMinute, b)
		key := "user:" + domain.NewID()
		for range 2 {
			d, err := l.Limiter.Allow(ctx, key)
			noErr(t, err)
			if !d.Allowed {
				t.Fatalf("Allow from a full budget: %+v", d)
			}
		}
		wantGranted(t, lease(t, l.Leaser, key, 10), b-2, 0)
		d, err := l.Limiter.Allow(ctx, key)
		noErr(t, err)
		if d.Allowed || d.RetryAfter <= 0 {
			t.Fatalf("Allow after a lease took the rest: %+v, want denied", d)
		}

		key = "ip:" + domain.NewID()
		wantGranted(t, lease(t, l.Leaser, key, b-1), b-1, 1)
		d, err = l.Limiter.Allow(ctx, key)
		noErr(t, err)
		if !d.Allowed || d.Remaining != 0 {
			t.Fatalf("Allow after a lease of burst-1: %+v, want the last unit", d)
		}
		wantEmpty(t, lease(t, l.Leaser, key, 1))
	})

	t.Run("keys are separate budgets", func(t *testing.T) {
		l := newLeasers(t, memory.NewClock(base), suitePerMinute, b)
		a, c := "user:"+domain.NewID(), "ip:"+domain.NewID()
		wantGranted(t, lease(t, l.Leaser, a, b), b, 0)
		wantEmpty(t, lease(t, l.Leaser, a, 1))
		wantGranted(t, lease(t, l.Leaser, c, 1), 1, b-1)
		d, err := l.Limiter.Allow(ctx, c)
		noErr(t, err)
		if !d.Allowed || d.Remaining != b-2 {
			t.Fatalf("Allow on another key: %+v, want allowed with %d remaining", d, b-2)
		}
	})

	t.Run("concurrent leases never grant more than the burst", func(t *testing.T) {
		l := newLeasers(t, memory.NewClock(base), suitePerMinute, b)
		key := "key:" + domain.NewID()
		got, errs := allAtOnce(20, func(int) (port.BudgetLease, error) { return l.Leaser.Lease(ctx, key, 2) })
		granted := 0
		for i, g := range got {
			noErr(t, errs[i])
			if g.Granted < 0 || g.Granted > 2 || g.Decision.Allowed != (g.Granted > 0) {
				t.Fatalf("lease %d: %+v, want 0 to 2 granted, allowed exactly when some are", i, g)
			}
			granted += g.Granted
		}
		if granted != b {
			t.Fatalf("20 concurrent leases of 2 granted %d in all, want exactly the burst %d", granted, b)
		}
	})
}
