package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/test/testenv"
)

type gateEnv struct {
	client   goredis.UniversalClient
	prefix   string
	clock    *memory.Clock
	gate     *redis.Gate
	limiter  *redis.RateLimiter
	denylist *redis.Denylist
	hook     *roundTrips
}

func newGateEnv(t *testing.T, perMinute, burst int) *gateEnv {
	t.Helper()
	client, prefix := testenv.Redis(t)
	hook := &roundTrips{}
	client.AddHook(hook)
	clock := memory.NewClock(time.Now())
	gate, err := redis.NewGate(client, prefix, clock, perMinute, burst)
	if err != nil {
		t.Fatal(err)
	}
	return &gateEnv{
		client: client, prefix: prefix, clock: clock, gate: gate, hook: hook,
		limiter:  newLimiter(t, client, prefix, perMinute, burst),
		denylist: readyDenylist(t, client, prefix, clock),
	}
}

func TestGateRevokedTokenSpendsNothing(t *testing.T) {
	t.Parallel()
	const burst = 3
	tests := []struct {
		name string
		deny func(e *gateEnv, c session.Claims) error
	}{
		{"token denied", func(e *gateEnv, c session.Claims) error {
			return e.denylist.DenyToken(context.Background(), c.TokenID, c.ExpiresAt)
		}},
		{"session denied", func(e *gateEnv, c session.Claims) error {
			return e.denylist.DenySession(context.Background(), c.SessionID, c.ExpiresAt)
		}},
		{"issued before the user's not-before", func(e *gateEnv, c session.Claims) error {
			return e.denylist.DenyUserBefore(context.Background(), c.UserID, c.IssuedAt.Add(time.Second), c.ExpiresAt)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newGateEnv(t, 1, burst)
			ctx := context.Background()
			c := tokenClaims(e.clock.Now())
			if err := tt.deny(e, c); err != nil {
				t.Fatal(err)
			}
			if err := e.denylist.Check(ctx, c); !isKind(err, domain.KindUnauthenticated) {
				t.Fatalf("Denylist.Check: %v, want unauthenticated (the test would prove nothing)", err)
			}
			for i := range 2 * burst {
				if d, err := e.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); !isKind(err, domain.KindUnauthenticated) {
					t.Fatalf("revoked attempt %d: %+v, %v; want unauthenticated", i+1, d, err)
				}
			}
			// The budget is untouched: the whole burst is still there.
			if keys := keyTTLs(t, e.client, e.prefix+"{deny}:rate:*"); len(keys) != 0 {
				t.Errorf("revoked attempts wrote budget state: %v", keys)
			}
			d, err := e.limiter.Allow(ctx, "user:"+c.UserID)
			if err != nil || !d.Allowed || d.Remaining != burst-1 {
				t.Fatalf("after revoked attempts: %+v, %v; want a full budget (remaining %d)", d, err, burst-1)
			}
			// Once the entry has expired, the same token passes and spends.
			e.clock.Advance(time.Hour)
			if d, err := e.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); err != nil || !d.Allowed || d.Remaining != burst-2 {
				t.Fatalf("after the deny entry expired: %+v, %v", d, err)
			}
		})
	}
}

// The gate and the limiter run one GCRA: the same sequence of requests gets
// the same decisions, and they spend one budget per key.
func TestGateDecidesAsTheRateLimiter(t *testing.T) {
	t.Parallel()
	// Both budgets run on Redis's real clock, one call apart: every case's
	// emission interval (≥ 2 s) is far longer than the time a loaded machine
	// can put between the two calls, so the two stay in step (600/min, one
	// unit per 100 ms, did not: it failed under load).
	tests := []struct{ perMinute, burst int }{{6, 1}, {6, 5}, {30, 3}, {12, 20}}
	for _, tt := range tests {
		e := newGateEnv(t, tt.perMinute, tt.burst)
		ctx := context.Background()
		c := tokenClaims(e.clock.Now())
		for i := range tt.burst + 2 {
			got, err := e.gate.CheckAndSpend(ctx, c, "user:gate")
			if err != nil {
				t.Fatal(err)
			}
			want, err := e.limiter.Allow(ctx, "user:limiter")
			if err != nil {
				t.Fatal(err)
			}
			if got.Allowed != want.Allowed || got.Limit != want.Limit || got.Remaining != want.Remaining ||
				!near(got.RetryAfter, want.RetryAfter) || !near(got.ResetAfter, want.ResetAfter) {
				t.Fatalf("%d/min burst %d, request %d: gate %+v, limiter %+v", tt.perMinute, tt.burst, i+1, got, want)
			}
			if wantAllowed := i < tt.burst; got.Allowed != wantAllowed {
				t.Fatalf("%d/min burst %d, request %d: allowed %v", tt.perMinute, tt.burst, i+1, got.Allowed)
			}
		}
	}
	// One budget: what the limiter spent on a key, the gate sees.
	e := newGateEnv(t, 1, 2)
	ctx := context.Background()
	if _, err := e.limiter.Allow(ctx, "key:k1"); err != nil {
		t.Fatal(err)
	}
	if d, err := e.gate.CheckAndSpend(ctx, tokenClaims(e.clock.Now()), "key:k1"); err != nil || !d.Allowed || d.Remaining != 0 {
		t.Fatalf("second unit of a shared budget: %+v, %v", d, err)
	}
	if d, _ := e.limiter.Allow(ctx, "key:k1"); d.Allowed {
		t.Fatalf("third unit of a burst of 2: %+v", d)
	}
}

// near allows for the time between two script calls, on a loaded machine;
// it is still well below one emission interval of the cases compared.
func near(a, b time.Duration) bool { return (a - b).Abs() < time.Second }

func TestGateIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t, 60, 100)
	ctx := context.Background()
	c := tokenClaims(e.clock.Now())
	if _, err := e.gate.CheckAndSpend(ctx, c, "user:warm"); err != nil { // loads the script
		t.Fatal(err)
	}
	revoked := tokenClaims(e.clock.Now())
	if err := e.denylist.DenySession(ctx, revoked.SessionID, revoked.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []session.Claims{c, revoked} {
		e.hook.reset()
		_, _ = e.gate.CheckAndSpend(ctx, tc, "user:"+tc.UserID)
		if n := e.hook.total(); n != 1 {
			t.Fatalf("CheckAndSpend sent %d commands and %d pipelines, want exactly one round trip", e.hook.cmds.Load(), e.hook.pipelines.Load())
		}
	}
}

func TestGateKeysShareTheDenylistSlot(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t, 60, 10)
	ctx := context.Background()
	c := tokenClaims(e.clock.Now())
	if _, err := e.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); err != nil {
		t.Fatal(err)
	}
	keys := keyTTLs(t, e.client, e.prefix)
	delete(keys, e.prefix+"{deny}:epoch") // the denylist's built marker, in the same slot
	want := e.prefix + "{deny}:rate:user:" + c.UserID
	if ttl, ok := keys[want]; len(keys) != 1 || !ok || ttl <= 0 || ttl > 2*time.Second {
		t.Fatalf("keys %v, want only %s with a TTL of about 1 s", keys, want)
	}
	// An IP budget is not a principal's and would leave the slot.
	if _, err := e.gate.CheckAndSpend(ctx, c, "ip:192.0.2.1"); !isKind(err, domain.KindInternal) {
		t.Fatalf("IP budget through the gate: %v, want internal", err)
	}
}

func TestGateRefusesWithoutAsking(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t, 60, 10)
	for _, mut := range []func(*session.Claims){
		func(c *session.Claims) { c.TokenID = "" },
		func(c *session.Claims) { c.SessionID = "" },
		func(c *session.Claims) { c.UserID = "" },
	} {
		c := tokenClaims(e.clock.Now())
		mut(&c)
		e.hook.reset()
		if _, err := e.gate.CheckAndSpend(context.Background(), c, "user:u1"); !isKind(err, domain.KindUnauthenticated) {
			t.Fatalf("claims %+v: %v, want unauthenticated", c, err)
		}
		if e.hook.total() != 0 {
			t.Errorf("a token that can never be revoked cost a round trip")
		}
	}
}

func TestGateCorruptEntryIsInternalAndSpendsNothing(t *testing.T) {
	t.Parallel()
	e := newGateEnv(t, 60, 10)
	ctx := context.Background()
	c := tokenClaims(e.clock.Now())
	if err := e.client.Set(ctx, e.prefix+"{deny}:sid:"+c.SessionID, "garbage", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); !isKind(err, domain.KindInternal) {
		t.Fatalf("corrupt entry: %v, want internal (not a 401, not a pass)", err)
	}
	if keys := keyTTLs(t, e.client, e.prefix+"{deny}:rate:*"); len(keys) != 0 {
		t.Errorf("a corrupt entry let the budget be spent: %v", keys)
	}
}

func TestGateRedisDownIsUnavailable(t *testing.T) {
	t.Parallel()
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	clock := memory.NewClock(time.Now())
	g, err := redis.NewGate(dead, "x:", clock, 60, 10)
	if err != nil {
		t.Fatal(err)
	}
	c := tokenClaims(clock.Now())
	if d, err := g.CheckAndSpend(context.Background(), c, "user:"+c.UserID); !isKind(err, domain.KindUnavailable) {
		t.Fatalf("dead Redis: %+v, %v; want unavailable (503, never 401)", d, err)
	}
}

func TestNewGateRejectsNonsense(t *testing.T) {
	t.Parallel()
	if _, err := redis.NewGate(nil, "x:", memory.NewClock(time.Now()), 0, 1); err == nil {
		t.Error("NewGate with 0 requests a minute: want an error")
	}
}

// isKind reports a non-nil error of kind k (KindOf(nil) is KindInternal).
func isKind(err error, k domain.Kind) bool { return err != nil && domain.KindOf(err) == k }
