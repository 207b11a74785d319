package redis_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/test/testenv"
)

func newLimiter(t *testing.T, rdb goredis.UniversalClient, prefix string, perMinute, burst int) *redis.RateLimiter {
	t.Helper()
	l, err := redis.NewRateLimiter(rdb, prefix, perMinute, burst)
	if err != nil {
		t.Fatalf("NewRateLimiter: %v", err)
	}
	return l
}

// travel moves a budget forward in time by d without sleeping: GCRA state is
// one timestamp (the theoretical arrival time), so moving it back by d is
// exactly what d of elapsed time does.
func travel(t *testing.T, rdb goredis.UniversalClient, key string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	tat, err := rdb.Get(ctx, key).Float64()
	if err != nil {
		t.Fatalf("read GCRA state %s: %v", key, err)
	}
	if err := rdb.Set(ctx, key, strconv.FormatFloat(tat-d.Seconds(), 'f', -1, 64), time.Hour).Err(); err != nil {
		t.Fatalf("write GCRA state: %v", err)
	}
}

func TestRateLimiterGCRAExactness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		perMinute int
		burst     int
	}{
		{"burst 1", 6, 1},
		{"burst 5, one per 10s", 6, 5},
		{"burst 3, one per 2s", 30, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb, prefix := testenv.Redis(t)
			l := newLimiter(t, rdb, prefix, tc.perMinute, tc.burst)
			ctx := context.Background()
			interval := time.Minute / time.Duration(tc.perMinute)
			for i := range tc.burst {
				d, err := l.Allow(ctx, "user:u1")
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				if !d.Allowed {
					t.Fatalf("request %d of a burst of %d denied: %+v", i+1, tc.burst, d)
				}
				if d.Limit != tc.perMinute || d.Remaining != tc.burst-1-i || d.RetryAfter != 0 {
					t.Errorf("request %d: got %+v, want limit %d remaining %d", i+1, d, tc.perMinute, tc.burst-1-i)
				}
				wantReset := interval * time.Duration(i+1)
				if d.ResetAfter > wantReset || d.ResetAfter < wantReset-time.Second {
					t.Errorf("request %d: ResetAfter %v, want about %v", i+1, d.ResetAfter, wantReset)
				}
			}
			d, err := l.Allow(ctx, "user:u1")
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed || d.Remaining != 0 {
				t.Fatalf("request %d after a burst of %d: %+v, want denied", tc.burst+1, tc.burst, d)
			}
			if d.RetryAfter > interval || d.RetryAfter < interval-time.Second {
				t.Errorf("RetryAfter %v, want about %v (60/rpm s)", d.RetryAfter, interval)
			}
			// A denied request spends nothing: after one interval exactly one
			// more request passes, then the budget is empty again.
			travel(t, rdb, prefix+"{deny}:rate:user:u1", interval) // principal budgets share the denylist's slot
			if d, _ := l.Allow(ctx, "user:u1"); !d.Allowed {
				t.Fatalf("after one interval: %+v, want allowed", d)
			}
			if d, _ := l.Allow(ctx, "user:u1"); d.Allowed {
				t.Fatalf("second request after one interval: %+v, want denied", d)
			}
			// Budgets are per key.
			if d, _ := l.Allow(ctx, "user:u2"); !d.Allowed || d.Remaining != tc.burst-1 {
				t.Errorf("other key: %+v, want a full budget", d)
			}
		})
	}
}

func TestRateLimiterKeysLiveUnderPrefixAndExpire(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	l := newLimiter(t, rdb, prefix, 60, 10)
	ctx := context.Background()
	if _, err := l.Allow(ctx, "ip:192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != prefix+"rate:ip:192.0.2.1" {
		t.Fatalf("keys under prefix: %v", keys)
	}
	ttl, err := rdb.TTL(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The key lives only until the budget is full again (1 request = 1 s).
	if ttl <= 0 || ttl > 2*time.Second {
		t.Errorf("TTL %v, want (0, 2s]", ttl)
	}
}

// Two limiters on two connections are two instances: they must spend one
// budget, even when they race.
func TestRateLimiterInstancesShareOneBudget(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	opts, err := goredis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	other := goredis.NewClient(opts)
	t.Cleanup(func() { _ = other.Close() })
	const burst = 20
	limiters := []*redis.RateLimiter{
		newLimiter(t, rdb, prefix, 1, burst),
		newLimiter(t, other, prefix, 1, burst),
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := limiters[i%2].Allow(context.Background(), "key:k1")
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Fatalf("%d requests allowed across two instances, want exactly %d", got, burst)
	}
}

// Once the script is cached in Redis, a rate check is one EVALSHA.
func TestRateLimiterAllowIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	hook := &testenv.CommandCounter{}
	rdb.AddHook(hook)
	l := newLimiter(t, rdb, prefix, 60, 100)
	ctx := context.Background()
	if _, err := l.Allow(ctx, "user:warm"); err != nil {
		t.Fatal(err)
	}
	hook.Reset()
	for range 10 {
		if _, err := l.Allow(ctx, "user:u1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := hook.Count(); got != 10 {
		t.Errorf("10 checks sent %d commands, want 10", got)
	}
}

func TestRateLimiterReturnsRedisErrors(t *testing.T) {
	t.Parallel()
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	l := newLimiter(t, dead, "x:", 60, 10)
	d, err := l.Allow(context.Background(), "user:u1")
	if err == nil {
		t.Fatalf("Allow against a dead Redis: %+v, want an error", d)
	}
}

func TestNewRateLimiterRejectsNonsense(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
		if _, err := redis.NewRateLimiter(nil, "x:", c[0], c[1]); err == nil {
			t.Errorf("NewRateLimiter(%d, %d): want an error", c[0], c[1])
		}
	}
}
