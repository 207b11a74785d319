package budget_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/budget"
)

var base = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

// countingLeaser records every lease call (its want) and how many were in
// flight at once. With gate set, the first call waits for the gate to
// close (or its context to end) before it goes on; entered is told when it
// starts waiting. With err set, every call fails with it.
type countingLeaser struct {
	next    port.BudgetLeaser
	err     error
	gate    chan struct{}
	entered chan struct{}

	mu          sync.Mutex
	wants       []int
	inFlight    int
	maxInFlight int
}

func (c *countingLeaser) Lease(ctx context.Context, key string, want int) (port.BudgetLease, error) {
	c.mu.Lock()
	c.wants = append(c.wants, want)
	first := len(c.wants) == 1
	c.inFlight++
	c.maxInFlight = max(c.maxInFlight, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	if first && c.gate != nil {
		c.entered <- struct{}{}
		select {
		case <-c.gate:
		case <-ctx.Done():
			return port.BudgetLease{}, domain.Unavailable("test leaser", ctx.Err())
		}
	}
	if c.err != nil {
		return port.BudgetLease{}, c.err
	}
	return c.next.Lease(ctx, key, want)
}

func (c *countingLeaser) calls() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.wants)
}

// blockFirst makes the leaser's first call wait for release.
func (c *countingLeaser) blockFirst() (release func()) {
	c.gate, c.entered = make(chan struct{}), make(chan struct{}, 1)
	return sync.OnceFunc(func() { close(c.gate) })
}

// fixture is a Leased over a counting leaser over the in-process GCRA, all
// judged by one fake clock.
type fixture struct {
	clock   *memory.Clock
	shared  *memory.RateLimiter
	leaser  *countingLeaser
	limiter *budget.Leased
}

func newFixture(t *testing.T, s budget.Settings) *fixture {
	t.Helper()
	clock := memory.NewClock(base)
	shared, err := memory.NewRateLimiter(clock, s.PerMinute, s.Burst)
	if err != nil {
		t.Fatal(err)
	}
	leaser := &countingLeaser{next: shared}
	l, err := budget.New(leaser, clock, s)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clock: clock, shared: shared, leaser: leaser, limiter: l}
}

func (f *fixture) allow(t *testing.T, key string) port.RateDecision {
	t.Helper()
	d, err := f.limiter.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("Allow(%s): %v", key, err)
	}
	return d
}

func wantCalls(t *testing.T, l *countingLeaser, want ...int) {
	t.Helper()
	if got := l.calls(); !slices.Equal(got, want) {
		t.Fatalf("lease calls (their want) = %v, want %v", got, want)
	}
}

// waitFor polls cond: it guards against a hang, it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 10_000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

func TestNewRejectsNonsense(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(base)
	shared, err := memory.NewRateLimiter(clock, 60, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		leaser port.BudgetLeaser
		clock  port.Clock
		s      budget.Settings
	}{
		{"no leaser", nil, clock, budget.Settings{PerMinute: 60, Burst: 10}},
		{"no clock", shared, nil, budget.Settings{PerMinute: 60, Burst: 10}},
		{"rate 0", shared, clock, budget.Settings{PerMinute: 0, Burst: 10}},
		{"burst 0", shared, clock, budget.Settings{PerMinute: 60, Burst: 0}},
		{"slack negative", shared, clock, budget.Settings{PerMinute: 60, Burst: 10, Slack: -1}},
		{"max keys negative", shared, clock, budget.Settings{PerMinute: 60, Burst: 10, MaxKeys: -1}},
	} {
		if _, err := budget.New(c.leaser, c.clock, c.s); err == nil {
			t.Errorf("%s: want an error", c.name)
		}
	}
}

func TestValidityIsSlackIntervalsCappedAtOneSecond(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    budget.Settings
		want time.Duration
	}{
		{budget.Settings{PerMinute: 6000, Burst: 50, Slack: 5}, 50 * time.Millisecond},
		{budget.Settings{PerMinute: 600, Burst: 100, Slack: 5}, 500 * time.Millisecond},
		{budget.Settings{PerMinute: 60, Burst: 100, Slack: 5}, time.Second},
		{budget.Settings{PerMinute: 60, Burst: 100}, 0},
	} {
		if got := newFixture(t, c.s).limiter.Validity(); got != c.want {
			t.Errorf("%+v: validity %v, want %v", c.s, got, c.want)
		}
	}
}

// With Slack 0 every Allow is one lease of one unit, and the decisions are
// exactly the shared GCRA's.
func TestSlackZeroIsOneLeaseOfOnePerRequest(t *testing.T) {
	t.Parallel()
	s := budget.Settings{PerMinute: 60, Burst: 3}
	f := newFixture(t, s)
	twin, err := memory.NewRateLimiter(f.clock, s.PerMinute, s.Burst)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		got := f.allow(t, "user:u1")
		want, _ := twin.Allow(context.Background(), "user:u1")
		if got != want {
			t.Fatalf("request %d: %+v, want the GCRA's %+v", i+1, got, want)
		}
		f.clock.Advance(300 * time.Millisecond)
	}
	wantCalls(t, f.leaser, 1, 1, 1, 1, 1, 1)
	if n := f.limiter.Keys(); n != 0 {
		t.Errorf("%d keys kept with slack 0, want none", n)
	}
}

// One instance, requests faster than slices expire: the lease size doubles
// up to Slack, one lease serves up to Slack requests, and every decision is
// the one the shared GCRA would have given request by request.
func TestSlicesGrowToSlackAndCutRoundTrips(t *testing.T) {
	t.Parallel()
	s := budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4} // T 10 ms, v 40 ms
	f := newFixture(t, s)
	twin, err := memory.NewRateLimiter(f.clock, s.PerMinute, s.Burst)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		got := f.allow(t, "key:k1")
		want, _ := twin.Allow(context.Background(), "key:k1")
		if got != want {
			t.Fatalf("request %d: %+v, want the GCRA's %+v", i+1, got, want)
		}
	}
	// 1 + 2 + 4 + 4 + 4 + 4 = 19 units, and the 20th request leases again.
	wantCalls(t, f.leaser, 1, 2, 4, 4, 4, 4, 4)
	// The shared budget lent 23: 3 are held.
	if d, _ := f.shared.Allow(context.Background(), "key:k1"); d.Remaining != 100-23-1 {
		t.Fatalf("shared budget after 20 requests: %+v, want %d remaining", d, 100-23-1)
	}
	// Another key starts small again.
	f.allow(t, "key:k2")
	wantCalls(t, f.leaser, 1, 2, 4, 4, 4, 4, 4, 1)
}

// Units not spent within v lapse: the next request leases anew, for what
// was used, and the lapsed units stay spent from the shared budget.
func TestUnitsLapseAfterTheValidity(t *testing.T) {
	t.Parallel()
	s := budget.Settings{PerMinute: 60, Burst: 10, Slack: 4} // T 1 s: v = min(4 s, 1 s)
	f := newFixture(t, s)
	f.allow(t, "user:u1") // lease 1
	f.allow(t, "user:u1") // ran out at once: lease 2, 1 held
	f.clock.Advance(999 * time.Millisecond)
	f.allow(t, "user:u1") // the held unit, just inside v
	wantCalls(t, f.leaser, 1, 2)
	f.allow(t, "user:u1") // ran out within v: lease 4, 3 held until 1.999 s
	wantCalls(t, f.leaser, 1, 2, 4)
	f.clock.Advance(time.Second)
	d := f.allow(t, "user:u1") // the 3 lapsed: lease what was used, 1
	wantCalls(t, f.leaser, 1, 2, 4, 1)
	// Before this lease, 7 units were spent for 4 requests: at 1.999 s the
	// TAT is 5.001 s ahead, τ is 9 s, so 4 units conform, and 3 are left
	// after this one (6 would be without the 3 that lapsed).
	if !d.Allowed || d.Remaining != 3 {
		t.Fatalf("after the lapse: %+v, want allowed with 3 remaining", d)
	}
}

// A lease that grants nothing is remembered: the key is denied locally, with
// a shrinking Retry-After, until the shared budget has a unit again.
func TestDenialIsRememberedUntilRetryAfter(t *testing.T) {
	t.Parallel()
	s := budget.Settings{PerMinute: 60, Burst: 2, Slack: 2} // T 1 s, v 1 s
	f := newFixture(t, s)
	f.allow(t, "user:u1")
	if d := f.allow(t, "user:u1"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("second request: %+v, want the last unit", d)
	}
	d := f.allow(t, "user:u1")
	if d.Allowed || d.RetryAfter != time.Second || d.Limit != 60 {
		t.Fatalf("past the burst: %+v, want denied for 1s", d)
	}
	wantCalls(t, f.leaser, 1, 2, 2)
	for range 5 {
		if d := f.allow(t, "user:u1"); d.Allowed || d.RetryAfter != time.Second || d.Limit != 60 || d.ResetAfter != 2*time.Second {
			t.Fatalf("denied locally: %+v, want denied for 1s, full in 2s", d)
		}
	}
	f.clock.Advance(999 * time.Millisecond)
	if d := f.allow(t, "user:u1"); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("denied locally 999ms later: %+v, want 1ms to wait", d)
	}
	wantCalls(t, f.leaser, 1, 2, 2)
	f.clock.Advance(time.Millisecond)
	if d := f.allow(t, "user:u1"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("at Retry-After: %+v, want the unit that came back", d)
	}
	wantCalls(t, f.leaser, 1, 2, 2, 2)
	// Other keys are not denied.
	if d := f.allow(t, "user:u2"); !d.Allowed {
		t.Fatalf("another key: %+v", d)
	}
}

// Concurrent requests for a key whose slice is empty share one lease call:
// the others wait for it instead of each calling the store.
func TestConcurrentRequestsShareOneLeaseCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4})
	release := f.leaser.blockFirst()
	defer release()
	const n = 10
	decisions := make([]port.RateDecision, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { decisions[0], errs[0] = f.limiter.Allow(context.Background(), "user:u1") })
	<-f.leaser.entered
	for i := 1; i < n; i++ {
		wg.Go(func() { decisions[i], errs[i] = f.limiter.Allow(context.Background(), "user:u1") })
	}
	waitFor(t, "the other requests to wait on the lease call", func() bool { return f.limiter.Waiting("user:u1") == n-1 })
	wantCalls(t, f.leaser, 1)
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !decisions[i].Allowed {
			t.Fatalf("request %d: %+v, %v", i, decisions[i], errs[i])
		}
	}
	// Each call in turn, none at once: 1 + 2 + 4 + 4 ≥ 10 units.
	wantCalls(t, f.leaser, 1, 2, 4, 4)
	if f.leaser.maxInFlight != 1 {
		t.Fatalf("%d lease calls were in flight at once, want 1", f.leaser.maxInFlight)
	}
}

// The requests that shared a failed lease call get its error; nothing is
// remembered, so the next request calls again.
func TestWaitersShareTheLeaseCallsError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4})
	f.leaser.err = domain.Unavailable("redis", errors.New("connection refused"))
	release := f.leaser.blockFirst()
	defer release()
	const n = 5
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Go(func() { _, errs[0] = f.limiter.Allow(context.Background(), "user:u1") })
	<-f.leaser.entered
	for i := 1; i < n; i++ {
		wg.Go(func() { _, errs[i] = f.limiter.Allow(context.Background(), "user:u1") })
	}
	waitFor(t, "the other requests to wait", func() bool { return f.limiter.Waiting("user:u1") == n-1 })
	release()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("request %d: %v, want the leaser's unavailable", i, err)
		}
	}
	wantCalls(t, f.leaser, 1)
	if _, err := f.limiter.Allow(context.Background(), "user:u1"); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("next request: %v, want unavailable", err)
	}
	wantCalls(t, f.leaser, 1, 1)
}

// A leader whose own context ends does not fail the requests waiting on its
// call: they lease for themselves.
func TestWaitersLeaseThemselvesWhenTheLeadersContextEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4})
	release := f.leaser.blockFirst()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	var leaderErr, waiterErr error
	var waiter port.RateDecision
	var wg sync.WaitGroup
	wg.Go(func() { _, leaderErr = f.limiter.Allow(ctx, "user:u1") })
	<-f.leaser.entered
	wg.Go(func() { waiter, waiterErr = f.limiter.Allow(context.Background(), "user:u1") })
	waitFor(t, "the waiter", func() bool { return f.limiter.Waiting("user:u1") == 1 })
	cancel()
	wg.Wait()
	if !errors.Is(leaderErr, domain.ErrUnavailable) {
		t.Fatalf("leader: %v, want unavailable (its context ended)", leaderErr)
	}
	if waiterErr != nil || !waiter.Allowed {
		t.Fatalf("waiter: %+v, %v; want allowed by a lease of its own", waiter, waiterErr)
	}
	wantCalls(t, f.leaser, 1, 1)
}

// A request whose context ends while it waits gives up with ErrUnavailable;
// the lease call goes on for the others.
func TestAWaiterWhoseContextEndsGivesUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4})
	release := f.leaser.blockFirst()
	defer release()
	var leader port.RateDecision
	var leaderErr, waiterErr error
	var wg sync.WaitGroup
	wg.Go(func() { leader, leaderErr = f.limiter.Allow(context.Background(), "user:u1") })
	<-f.leaser.entered
	ctx, cancel := context.WithCancel(context.Background())
	wg.Go(func() { _, waiterErr = f.limiter.Allow(ctx, "user:u1") })
	waitFor(t, "the waiter", func() bool { return f.limiter.Waiting("user:u1") == 1 })
	cancel()
	waitFor(t, "the waiter to give up", func() bool { return f.limiter.Waiting("user:u1") == 0 })
	release()
	wg.Wait()
	if !errors.Is(waiterErr, domain.ErrUnavailable) {
		t.Fatalf("waiter: %v, want unavailable", waiterErr)
	}
	if leaderErr != nil || !leader.Allowed {
		t.Fatalf("leader: %+v, %v", leader, leaderErr)
	}
	wantCalls(t, f.leaser, 1)
}

func TestLeaserErrorsAreReturned(t *testing.T) {
	t.Parallel()
	for _, slack := range []int{0, 4} {
		f := newFixture(t, budget.Settings{PerMinute: 600, Burst: 10, Slack: slack})
		f.leaser.err = domain.Unavailable("redis", errors.New("i/o timeout"))
		for range 2 {
			if d, err := f.limiter.Allow(context.Background(), "ip:192.0.2.1"); !errors.Is(err, domain.ErrUnavailable) || d.Allowed {
				t.Fatalf("slack %d: %+v, %v; want the leaser's error", slack, d, err)
			}
		}
		wantCalls(t, f.leaser, 1, 1)
	}
}

// The map of keys is capped; idle keys are swept when it is full, and a key
// that finds it full of live slices is served without one.
func TestKeysAreBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4, MaxKeys: 3}) // v 40 ms
	for _, k := range []string{"a", "b", "c"} {
		f.allow(t, k)
	}
	f.allow(t, "d")
	f.allow(t, "d")
	f.allow(t, "d")
	if n := f.limiter.Keys(); n != 3 {
		t.Fatalf("%d keys kept, want the cap 3", n)
	}
	wantCalls(t, f.leaser, 1, 1, 1, 1, 1, 1) // d: no slice, one lease of one each time
	f.clock.Advance(40 * time.Millisecond)   // a, b, c expire
	f.allow(t, "e")
	if n := f.limiter.Keys(); n != 1 {
		t.Fatalf("%d keys kept after the sweep, want only e", n)
	}
	f.allow(t, "e")
	wantCalls(t, f.leaser, 1, 1, 1, 1, 1, 1, 1, 2)
}

func TestIdleKeysAreSweptAsNewOnesCome(t *testing.T) {
	t.Parallel()
	f := newFixture(t, budget.Settings{PerMinute: 6000, Burst: 100, Slack: 4}) // v 40 ms
	for i := range 1023 {
		f.allow(t, "ip:"+string(rune('a'+i%26))+domain.NewID())
	}
	if n := f.limiter.Keys(); n != 1023 {
		t.Fatalf("%d keys, want 1023", n)
	}
	f.clock.Advance(40 * time.Millisecond)
	f.allow(t, "ip:the-1024th")
	if n := f.limiter.Keys(); n != 1 {
		t.Fatalf("%d keys after the 1024th new key, want the idle ones swept", n)
	}
}

// Four instances over one shared budget, simulated on the fake clock under
// skewed load (one instance gets 70% of the calls): no window of any length
// W sees more than Burst + Slack + ⌊W/T⌋ admissions, and the budget is not
// left unused. Two shapes of load: overload with short pauses, and short
// bursts after pauses long enough for the budget to fill up again while
// slices are held (there the lapse is what keeps the bound).
func TestInstancesStayWithinBurstPlusSlackInEveryWindow(t *testing.T) {
	t.Parallel()
	for _, load := range []struct {
		name   string
		period int // ms
		busy   int // ms of each period with requests
		rate   int // up to rate-1 requests per busy ms
		floor  int // the admissions expected, at least, in percent of what the budget allows
	}{
		{"overload, pauses of 40ms", 100, 60, 6, 50},
		{"bursts of 4ms every 300ms", 300, 4, 12, 30},
	} {
		t.Run(load.name, func(t *testing.T) {
			t.Parallel()
			simulate(t, load.period, load.busy, load.rate, load.floor)
		})
	}
}

func simulate(t *testing.T, period, busy, rate, floor int) {
	s := budget.Settings{PerMinute: 6000, Burst: 20, Slack: 5} // T 10 ms, v 50 ms
	const interval = 10 * time.Millisecond
	clock := memory.NewClock(base)
	shared, err := memory.NewRateLimiter(clock, s.PerMinute, s.Burst)
	if err != nil {
		t.Fatal(err)
	}
	leaser := &countingLeaser{next: shared}
	var instances []*budget.Leased
	for range 4 {
		l, err := budget.New(leaser, clock, s)
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, l)
	}
	rng := rand.New(rand.NewPCG(14, 5))
	var admitted []time.Time
	requests := 0
	const steps = 6000 // 1 ms each
	for step := range steps {
		if step%period < busy {
			for range rng.IntN(rate) {
				i := 0
				if rng.IntN(10) >= 7 {
					i = 1 + rng.IntN(3)
				}
				requests++
				d, err := instances[i].Allow(context.Background(), "user:u1")
				if err != nil {
					t.Fatal(err)
				}
				if d.Allowed {
					admitted = append(admitted, clock.Now())
				}
			}
		}
		clock.Advance(time.Millisecond)
	}
	for i := range admitted {
		for j := i; j < len(admitted); j++ {
			w := admitted[j].Sub(admitted[i])
			if n, bound := j-i+1, s.Burst+s.Slack+int(w/interval); n > bound {
				t.Fatalf("%d admissions within %v (from %v), want at most burst + slack + W/T = %d", n, w, admitted[i].Sub(base), bound)
			}
		}
	}
	// What the budget allows for these requests: per period, at most a
	// full burst (it refills in Burst × T) plus the busy time's rate.
	periods := steps / period
	refill := min(s.Burst, (period-busy)*int(time.Millisecond)/int(interval))
	allowed := min(requests, s.Burst+periods*(refill+busy*int(time.Millisecond)/int(interval)))
	if len(admitted)*100 < allowed*floor {
		t.Fatalf("%d admissions for %d requests, want at least %d%% of the %d the budget allows", len(admitted), requests, floor, allowed)
	}
	if calls := len(leaser.calls()); calls*2 > requests {
		t.Fatalf("%d lease calls for %d requests, want leasing to save most round trips", calls, requests)
	}
	t.Logf("%d requests, %d admitted (budget allows about %d), %d lease calls", requests, len(admitted), allowed, len(leaser.calls()))
}

// Slices held through a pause must lapse: otherwise the units they hold and
// a budget that filled up again meanwhile would stack in one window.
func TestHeldUnitsLapseSoAPauseCannotStackThem(t *testing.T) {
	t.Parallel()
	s := budget.Settings{PerMinute: 600, Burst: 20, Slack: 5} // T 100 ms, v 500 ms
	clock := memory.NewClock(base)
	shared, err := memory.NewRateLimiter(clock, s.PerMinute, s.Burst)
	if err != nil {
		t.Fatal(err)
	}
	var instances []*budget.Leased
	for range 4 {
		l, err := budget.New(shared, clock, s)
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, l)
	}
	admit := func(i, n int) int {
		admitted := 0
		for range n {
			d, err := instances[i].Allow(context.Background(), "user:u1")
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				admitted++
			}
		}
		return admitted
	}
	// 4 requests lease 1 + 2 + 4 and hold 3; 2 requests lease 1 + 2 and
	// hold 1: the whole burst of 20 is lent, 8 of it held.
	if got := admit(0, 4) + admit(1, 4) + admit(2, 2) + admit(3, 2); got != 12 {
		t.Fatalf("%d of 12 admitted, want all", got)
	}
	if d, _ := shared.Lease(context.Background(), "user:u1", 1); d.Granted != 0 {
		t.Fatalf("the shared budget still had units: %+v", d)
	}
	clock.Advance(time.Duration(s.Burst) * time.Minute / time.Duration(s.PerMinute)) // full again
	// Each instance serves as many requests as it held units, then one
	// instance serves until it is denied. Had the 8 held units survived the
	// pause, that would be 8 + 20 = 28 at one instant, above burst + slack.
	got := admit(0, 3) + admit(1, 3) + admit(2, 1) + admit(3, 1) + admit(0, 30)
	if got > s.Burst+s.Slack || got != s.Burst {
		t.Fatalf("%d admitted at one instant after the pause, want the burst %d: the held units should have lapsed (bound: burst + slack = %d)", got, s.Burst, s.Burst+s.Slack)
	}
}
