package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port/porttest"
)

func TestBudgetLeaser(t *testing.T) {
	porttest.BudgetLeaser(t, func(t *testing.T, clock *memory.Clock, perMinute, burst int) porttest.BudgetLeasers {
		l, err := memory.NewRateLimiter(clock, perMinute, burst)
		if err != nil {
			t.Fatal(err)
		}
		return porttest.BudgetLeasers{Leaser: l, Limiter: l}
	})
}

// TestLeaseByTheClock moves the injected clock: leased units come back one
// per interval, as allowed ones do, and the decision's times are exact.
func TestLeaseByTheClock(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC))
	l, err := memory.NewRateLimiter(clock, 6, 4) // one per 10 s, burst 4
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	got, _ := l.Lease(ctx, "k", 3)
	if got.Granted != 3 || got.Decision.Remaining != 1 || got.Decision.ResetAfter != 30*time.Second || got.ValidFor != memory.LeaseValidity {
		t.Fatalf("lease of 3 from full: %+v, want 3 granted, 1 left, full again in 30s, valid %v", got, memory.LeaseValidity)
	}
	got, _ = l.Lease(ctx, "k", 3)
	if got.Granted != 1 || got.Decision.Remaining != 0 || got.Decision.ResetAfter != 40*time.Second {
		t.Fatalf("lease of 3 with 1 left: %+v, want the 1", got)
	}
	got, _ = l.Lease(ctx, "k", 3)
	if got.Granted != 0 || got.Decision.Allowed || got.Decision.RetryAfter != 10*time.Second || got.Decision.ResetAfter != 40*time.Second {
		t.Fatalf("lease of an empty budget: %+v, want 0, retry after 10s", got)
	}
	clock.Advance(25 * time.Second) // two units back, the third in 5 s
	got, _ = l.Lease(ctx, "k", 3)
	if got.Granted != 2 || got.Decision.Remaining != 0 || got.Decision.ResetAfter != 35*time.Second {
		t.Fatalf("lease after 25s: %+v, want 2 granted", got)
	}
	if d, _ := l.Allow(ctx, "k"); d.Allowed || d.RetryAfter != 5*time.Second {
		t.Fatalf("Allow after the lease took what came back: %+v, want denied for 5s", d)
	}
	clock.Advance(time.Hour)
	if got, _ = l.Lease(ctx, "k", 100); got.Granted != 4 || got.Decision.Remaining != 0 {
		t.Fatalf("lease after idling: %+v, want the whole burst", got)
	}
}

func TestLeaseOfACanceledContext(t *testing.T) {
	t.Parallel()
	l, err := memory.NewRateLimiter(memory.NewClock(time.Now()), 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Lease(ctx, "k", 1); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("lease with a canceled context: %v, want unavailable", err)
	}
	if got, _ := l.Lease(t.Context(), "k", 4); got.Granted != 4 {
		t.Fatalf("the canceled lease spent from the budget: %+v", got)
	}
}
