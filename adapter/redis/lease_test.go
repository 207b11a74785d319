package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

// The leaser keeps time by Redis's clock, as the limiter does: the clock
// given is ignored and the suite's budget refills nothing while it runs.
func TestBudgetLeaserContract(t *testing.T) {
	porttest.BudgetLeaser(t, func(t *testing.T, _ *memory.Clock, perMinute, burst int) porttest.BudgetLeasers {
		rdb, prefix := testenv.Redis(t)
		l := newLimiter(t, rdb, prefix, perMinute, burst)
		return porttest.BudgetLeasers{Leaser: l, Limiter: l}
	})
}

// TestLeaseGCRAExactness moves the budget's TAT back (travel) instead of
// waiting: leased units come back one per interval, exactly as allowed
// ones do, and a grant moves the TAT by Granted × T.
func TestLeaseGCRAExactness(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	l := newLimiter(t, rdb, prefix, 6, 4) // one per 10 s, burst 4
	ctx := context.Background()
	const interval = 10 * time.Second
	stored := prefix + "{deny}:rate:user:u1" // the limiter's key layout

	got, err := l.Lease(ctx, "user:u1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got.Granted != 3 || !got.Decision.Allowed || got.Decision.Remaining != 1 || got.ValidFor != redis.LeaseValidity {
		t.Fatalf("lease of 3 from full: %+v", got)
	}
	if r := got.Decision.ResetAfter; r > 3*interval || r < 3*interval-time.Second {
		t.Errorf("ResetAfter %v, want about 30s", r)
	}
	ttl, err := rdb.PTTL(ctx, stored).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl > 3*interval || ttl < 3*interval-2*time.Second {
		t.Errorf("the budget's key expires in %v, want about 30s (when it is full again)", ttl)
	}
	if got, _ = l.Lease(ctx, "user:u1", 3); got.Granted != 1 || got.Decision.Remaining != 0 {
		t.Fatalf("lease of 3 with 1 left: %+v, want the 1", got)
	}
	got, _ = l.Lease(ctx, "user:u1", 3)
	if got.Granted != 0 || got.Decision.Allowed || got.Decision.RetryAfter > interval || got.Decision.RetryAfter < interval-time.Second {
		t.Fatalf("lease of an empty budget: %+v, want 0 granted, retry after about 10s", got)
	}
	travel(t, rdb, stored, 2*interval+interval/2) // two units back, the third in 5 s
	if got, _ = l.Lease(ctx, "user:u1", 3); got.Granted != 2 || got.Decision.Remaining != 0 {
		t.Fatalf("lease after 25s: %+v, want 2 granted", got)
	}
	d, err := l.Allow(ctx, "user:u1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.RetryAfter > interval/2 || d.RetryAfter < interval/2-time.Second {
		t.Fatalf("Allow after the lease took what came back: %+v, want denied for about 5s", d)
	}
	// IP budgets live outside the {deny} slot, as the limiter's do.
	if _, err := l.Lease(ctx, "ip:192.0.2.7", 2); err != nil {
		t.Fatal(err)
	}
	if n, err := rdb.Exists(ctx, prefix+"rate:ip:192.0.2.7").Result(); err != nil || n != 1 {
		t.Fatalf("ip budget at %srate:ip:192.0.2.7: exists %d, %v", prefix, n, err)
	}
}

// After LoadScripts a lease is one EVALSHA: one round trip for any want.
func TestLeaseIsOneEVALSHA(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	if err := redis.LoadScripts(context.Background(), rdb); err != nil {
		t.Fatal(err)
	}
	log := &commandLog{}
	rdb.AddHook(log)
	l := newLimiter(t, rdb, prefix, 600, 50)
	for _, want := range []int{1, 7, 1000} {
		if _, err := l.Lease(context.Background(), "user:"+domain.NewID(), want); err != nil {
			t.Fatal(err)
		}
		if got := log.take(); len(got) != 1 || got[0] != "evalsha" {
			t.Fatalf("lease of %d sent %v, want one evalsha", want, got)
		}
	}
}

func TestLeaseReturnsRedisErrorsAsUnavailable(t *testing.T) {
	t.Parallel()
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	l := newLimiter(t, dead, "x:", 60, 10)
	got, err := l.Lease(context.Background(), "user:u1", 3)
	if !errors.Is(err, domain.ErrUnavailable) || got.Granted != 0 {
		t.Fatalf("lease against a dead Redis: %+v, %v; want nothing granted and unavailable", got, err)
	}
}
