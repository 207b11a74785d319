package budget_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/test/testenv"
	"github.com/m9m/auth/usecase/budget"
)

// wallClock is the production clock: time.Now, with its monotonic reading.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// firstLease remembers when the first lease call of any instance was sent.
type firstLease struct {
	next port.BudgetLeaser
	at   *atomic.Int64 // UnixNano; 0 until the first call
}

func (f firstLease) Lease(ctx context.Context, key string, want int) (port.BudgetLease, error) {
	f.at.CompareAndSwap(0, time.Now().UnixNano())
	return f.next.Lease(ctx, key, want)
}

// admission is an allowed request, admitted somewhere between its call and
// its answer.
type admission struct{ called, answered time.Time }

// Four instances, each with its own connection to one Redis (as four
// processes would have), share one budget under skewed load far above the
// limit for about two seconds: the admissions A over the run's duration D
// (from the first lease sent to the last admission) stay within
// burst + D/T + slack, and so do those of every window inside the run;
// and A is at least half of what the budget allows, so the test fails both
// ways.
func TestInstancesOverRedisStayWithinTheBound(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	opts := rdb.(*goredis.Client).Options()
	s := budget.Settings{PerMinute: 6000, Burst: 50, Slack: 5} // T 10 ms, v 50 ms
	const interval = 10 * time.Millisecond
	var first atomic.Int64
	var instances []*budget.Leased
	for range 4 {
		client := goredis.NewClient(opts)
		t.Cleanup(func() { _ = client.Close() })
		shared, err := redis.NewRateLimiter(client, prefix, s.PerMinute, s.Burst)
		if err != nil {
			t.Fatal(err)
		}
		l, err := budget.New(firstLease{next: shared, at: &first}, wallClock{}, s)
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, l)
	}

	var mu sync.Mutex
	var admitted []admission
	var requests, failures atomic.Int64
	stop := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 14))
			for time.Now().Before(stop) {
				i := 0 // 70% of the calls go to one instance
				if rng.IntN(10) >= 7 {
					i = 1 + rng.IntN(3)
				}
				called := time.Now()
				d, err := instances[i].Allow(context.Background(), "user:u1")
				answered := time.Now()
				requests.Add(1)
				if err != nil {
					failures.Add(1)
				} else if d.Allowed {
					mu.Lock()
					admitted = append(admitted, admission{called, answered})
					mu.Unlock()
				}
				time.Sleep(time.Millisecond) // about 8 × 1,000 a second offered: 80× the limit
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed", n, requests.Load())
	}
	if len(admitted) == 0 {
		t.Fatal("nothing was admitted")
	}
	last := slices.MaxFunc(admitted, func(a, b admission) int { return a.answered.Compare(b.answered) }).answered
	d := last.Sub(time.Unix(0, first.Load()))
	a := len(admitted)
	bound := s.Burst + int(d/interval) + s.Slack + 1
	t.Logf("%d requests, %d admitted over %v: bound burst + D/T + slack + 1 = %d", requests.Load(), a, d, bound)
	if a > bound {
		t.Fatalf("%d admitted over %v, want at most %d", a, d, bound)
	}
	if allowed := s.Burst + int(d/interval); a*2 < allowed {
		t.Fatalf("%d admitted over %v, want at least half of the %d the budget allows", a, d, allowed)
	}

	// Every window [s, e] inside the run: the admissions known to lie in it
	// (called at or after s, answered at or before e) are within the bound
	// of its length, burst + W/T + slack (+1 for rounding).
	slices.SortFunc(admitted, func(a, b admission) int { return a.called.Compare(b.called) })
	for i := range admitted {
		ends := make([]time.Time, 0, len(admitted)-i)
		for _, x := range admitted[i:] {
			ends = append(ends, x.answered)
		}
		slices.SortFunc(ends, time.Time.Compare)
		for k, e := range ends {
			w := e.Sub(admitted[i].called)
			if n, bound := k+1, s.Burst+int(w/interval)+s.Slack+1; n > bound {
				t.Fatalf("%d admissions within %v, want at most burst + W/T + slack + 1 = %d", n, w, bound)
			}
		}
	}
}

// With Redis unreachable, Allow fails with ErrUnavailable (the HTTP guard
// then fails open), leasing or not, and nothing is remembered.
func TestRedisDownIsUnavailable(t *testing.T) {
	t.Parallel()
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = dead.Close() })
	shared, err := redis.NewRateLimiter(dead, "x:", 600, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, slack := range []int{0, 5} {
		l, err := budget.New(shared, memory.NewClock(time.Now()), budget.Settings{PerMinute: 600, Burst: 100, Slack: slack})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if d, err := l.Allow(context.Background(), "user:u1"); !errors.Is(err, domain.ErrUnavailable) || d.Allowed {
				t.Fatalf("slack %d, Redis down: %+v, %v; want ErrUnavailable", slack, d, err)
			}
		}
	}
}

// BenchmarkLeasedAllow prices Leased.Allow against the real Redis and
// reports the Redis commands (round trips) it sends per request, and the
// share of requests allowed:
//
//	slack=0               today's one EVALSHA per request
//	slack=500000          make bench's budget (60M a minute at the GCRA's
//	                      1 µs resolution, burst 10M) with slack burst/20:
//	                      never exhausted, v = 0.5 s
//	slack=500000/parallel the same from GOMAXPROCS goroutines on one key
//	slack=5/over-limit    the default budget (600 a minute, burst 100,
//	                      slack 5), a caller far above it: denied locally
//
//	go test -run '^$' -bench LeasedAllow -benchtime 500ms ./usecase/budget/
func BenchmarkLeasedAllow(b *testing.B) {
	for _, c := range []struct {
		name     string
		s        budget.Settings
		parallel bool
	}{
		{"slack=0", budget.Settings{PerMinute: 60_000_000, Burst: 10_000_000}, false},
		{"slack=500000", budget.Settings{PerMinute: 60_000_000, Burst: 10_000_000, Slack: 500_000}, false},
		{"slack=500000/parallel", budget.Settings{PerMinute: 60_000_000, Burst: 10_000_000, Slack: 500_000}, true},
		{"slack=5/over-limit", budget.Settings{PerMinute: 600, Burst: 100, Slack: 5}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			rdb, prefix := testenv.Redis(b)
			if err := redis.LoadScripts(context.Background(), rdb); err != nil {
				b.Fatal(err)
			}
			cmds := &testenv.CommandCounter{}
			rdb.AddHook(cmds)
			shared, err := redis.NewRateLimiter(rdb, prefix, c.s.PerMinute, c.s.Burst)
			if err != nil {
				b.Fatal(err)
			}
			l, err := budget.New(shared, wallClock{}, c.s)
			if err != nil {
				b.Fatal(err)
			}
			var ops, allowed atomic.Int64
			allow := func() {
				d, err := l.Allow(context.Background(), "user:bench")
				if err != nil {
					b.Error(err)
					return
				}
				ops.Add(1)
				if d.Allowed {
					allowed.Add(1)
				}
			}
			b.ReportAllocs()
			if c.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						allow()
					}
				})
			} else {
				for b.Loop() {
					allow()
				}
			}
			if n := ops.Load(); n > 0 {
				b.ReportMetric(float64(cmds.Count())/float64(n), "redis-cmds/op")
				b.ReportMetric(float64(allowed.Load())/float64(n), "allowed/op")
			}
		})
	}
}
