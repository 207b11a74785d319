package redis_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestDenylistContract(t *testing.T) {
	porttest.TokenDenylist(t, func(t *testing.T, clock *memory.Clock) port.TokenDenylist {
		client, prefix := testenv.Redis(t)
		return readyDenylist(t, client, prefix, clock)
	})
}

// roundTrips counts what a client sends: single commands and pipelines.
// The handshake go-redis runs on each new pooled connection (HELLO, CLIENT
// SETINFO, AUTH, SELECT) is the pool's cost, not the caller's, so it is not
// counted.
type roundTrips struct{ cmds, pipelines atomic.Int64 }

func (h *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if !handshake(cmd) {
			h.cmds.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if len(cmds) > 0 && !handshake(cmds[0]) {
			h.pipelines.Add(1)
		}
		return next(ctx, cmds)
	}
}

func handshake(cmd goredis.Cmder) bool {
	switch strings.ToLower(cmd.Name()) {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

func (h *roundTrips) reset()       { h.cmds.Store(0); h.pipelines.Store(0) }
func (h *roundTrips) total() int64 { return h.cmds.Load() + h.pipelines.Load() }

func tokenClaims(iat time.Time) session.Claims {
	iat = iat.Truncate(time.Second)
	return session.Claims{
		TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(),
		IssuedAt: iat, NotBefore: iat, ExpiresAt: iat.Add(15 * time.Minute),
	}
}

func TestDenylistCheckIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	hook := &roundTrips{}
	client.AddHook(hook)
	clock := memory.NewClock(time.Now())
	d := readyDenylist(t, client, prefix, clock)
	c := tokenClaims(clock.Now())
	if err := client.Ping(ctx).Err(); err != nil { // open the connection first
		t.Fatal(err)
	}

	for _, deny := range []func() error{
		func() error { return nil },
		func() error { return d.DenyUserBefore(ctx, c.UserID, clock.Now().Add(-time.Hour), c.ExpiresAt) },
		func() error { return d.DenySession(ctx, domain.NewID(), c.ExpiresAt) },
		func() error { return d.DenyToken(ctx, c.TokenID, c.ExpiresAt) },
	} {
		if err := deny(); err != nil {
			t.Fatal(err)
		}
		hook.reset()
		_ = d.Check(ctx, c)
		if n := hook.total(); n != 1 {
			t.Fatalf("Check sent %d commands and %d pipelines, want exactly one round trip", hook.cmds.Load(), hook.pipelines.Load())
		}
	}
}

func TestLoginThrottleCheckIsOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	hook := &roundTrips{}
	client.AddHook(hook)
	l := redis.NewLoginThrottle(client, prefix, port.DefaultThrottleLimits(), memory.NewClock(time.Now()))
	if _, err := l.Fail(ctx, port.LoginAttempt{Username: "alice", Client: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	hook.reset()
	if _, err := l.Check(ctx, port.LoginAttempt{Username: "alice", Client: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if hook.total() != 1 {
		t.Fatalf("Check sent %d commands and %d pipelines, want one round trip", hook.cmds.Load(), hook.pipelines.Load())
	}
}

// keyTTLs returns every key under prefix with its remaining TTL.
func keyTTLs(t *testing.T, client goredis.UniversalClient, prefix string) map[string]time.Duration {
	t.Helper()
	ctx := context.Background()
	out := map[string]time.Duration{}
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		ttl, err := client.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatal(err)
		}
		out[iter.Val()] = ttl
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDenylistTTLsAreBounded(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	d := readyDenylist(t, client, prefix, clock)
	c := tokenClaims(clock.Now())
	until := clock.Now().Add(30 * time.Second)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.DenyToken(ctx, domain.NewID(), until))
	must(d.DenySession(ctx, c.SessionID, until))
	must(d.DenyUserBefore(ctx, c.UserID, clock.Now(), until))
	must(d.DenyUserBefore(ctx, c.UserID, clock.Now().Add(-time.Minute), until.Add(-10*time.Second)))
	_, err := d.ClaimRefresh(ctx, c.TokenID, "successor", 10*time.Second, until)
	must(err)
	other := domain.NewID()
	_, err = d.ClaimRefresh(ctx, other, "successor", time.Minute, clock.Now().Add(5*time.Second))
	must(err)

	ttls := keyTTLs(t, client, prefix)
	if ttl, ok := ttls[prefix+"{deny}:epoch"]; !ok || ttl >= 0 {
		t.Fatalf("epoch entry: TTL %v (present %v), want present without a TTL", ttl, ok)
	}
	delete(ttls, prefix+"{deny}:epoch") // the built marker stays while Redis keeps its memory
	// The feed expires its retention after its last append (24 h by default).
	if ttl, ok := ttls[prefix+"{deny}:log"]; !ok || ttl <= 0 || ttl > redis.DefaultFeedRetention {
		t.Fatalf("feed: TTL %v (present %v), want at most the retention", ttl, ok)
	}
	delete(ttls, prefix+"{deny}:log")
	// 3 jti denials (one direct, two by ClaimRefresh), 2 refresh grace
	// entries, 1 sid, 1 user not-before (written twice).
	if len(ttls) != 7 {
		t.Fatalf("%d keys under the prefix, want 7: %v", len(ttls), ttls)
	}
	for key, ttl := range ttls {
		limit := 30*time.Second + time.Second
		switch {
		case strings.HasSuffix(key, ":refresh:"+c.TokenID):
			limit = 10*time.Second + time.Second // the grace
		case strings.Contains(key, other):
			limit = 5*time.Second + time.Second // grace capped at until
		}
		if ttl <= 0 || ttl > limit {
			t.Errorf("key %s has TTL %v, want in (0, %v]", key, ttl, limit)
		}
		if !strings.Contains(key, "{deny}") {
			t.Errorf("key %s lacks the {deny} hash tag", key)
		}
	}
}

func TestLoginThrottleTTLsAreBounded(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	cfg := port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, Window: time.Minute, KnownClientTTL: time.Hour}
	l := redis.NewLoginThrottle(client, prefix, cfg, memory.NewClock(time.Now()))
	a := port.NewLoginAttempt("Alice", principal.Client{IP: "192.0.2.1"})
	for range 7 {
		if _, err := l.Fail(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	ttls := keyTTLs(t, client, prefix)
	if len(ttls) != 3 {
		t.Fatalf("%d keys under the prefix, want 3 (username+client, client, username): %v", len(ttls), ttls)
	}
	for key, ttl := range ttls {
		if ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %s has TTL %v, want in (0, 1m]", key, ttl)
		}
	}
	// A success remembers the client for KnownClientTTL, no longer.
	if err := l.Forgive(ctx, a); err != nil {
		t.Fatal(err)
	}
	ttls = keyTTLs(t, client, prefix)
	if len(ttls) != 3 {
		t.Fatalf("%d keys under the prefix after a success, want 3 (client, username, known clients): %v", len(ttls), ttls)
	}
	for key, ttl := range ttls {
		if ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %s has TTL %v, want in (0, 1h]", key, ttl)
		}
		if strings.Contains(strings.ToLower(key), "alice") || strings.Contains(key, "192.0.2.1") {
			t.Errorf("key %s shows the username or IP", key)
		}
	}
}

func TestRedisDownIsUnavailableNotUnauthenticated(t *testing.T) {
	ctx := context.Background()
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	clock := memory.NewClock(time.Now())
	d := redis.NewDenylist(client, "down:", clock)
	l := redis.NewLoginThrottle(client, "down:", port.DefaultThrottleLimits(), clock)
	c := tokenClaims(clock.Now())
	until := clock.Now().Add(time.Minute)

	errs := map[string]error{}
	errs["Check"] = d.Check(ctx, c)
	errs["DenyToken"] = d.DenyToken(ctx, c.TokenID, until)
	errs["DenySession"] = d.DenySession(ctx, c.SessionID, until)
	errs["DenyUserBefore"] = d.DenyUserBefore(ctx, c.UserID, clock.Now(), until)
	_, errs["ClaimRefresh"] = d.ClaimRefresh(ctx, c.TokenID, "successor", 10*time.Second, until)
	_, errs["throttle Check"] = l.Check(ctx, port.LoginAttempt{Username: "alice", Client: "192.0.2.1"})
	_, errs["throttle Fail"] = l.Fail(ctx, port.LoginAttempt{Username: "alice", Client: "192.0.2.1"})
	errs["throttle Forgive"] = l.Forgive(ctx, port.LoginAttempt{Username: "alice", Client: "192.0.2.1"})
	errs["throttle Release"] = l.Release(ctx, port.LoginAttempt{Username: "alice", Client: "192.0.2.1"})
	for name, err := range errs {
		if !errors.Is(err, domain.ErrUnavailable) || errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}
}

func TestDenylistCorruptEntryIsInternalNotUnauthenticated(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	d := readyDenylist(t, client, prefix, memory.NewClock(time.Now()))
	c := tokenClaims(time.Now())
	if err := client.Set(ctx, prefix+"{deny}:jti:"+c.TokenID, "garbage", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctx, c); !errors.Is(err, domain.ErrInternal) {
		t.Fatalf("Check over a corrupt entry = %v, want ErrInternal", err)
	}
	// A key of the wrong type is a Redis error reply: internal, not 401.
	if err := client.HSet(ctx, prefix+"{deny}:sid:"+c.SessionID, "x", "y").Err(); err != nil {
		t.Fatal(err)
	}
	if err := d.DenySession(ctx, c.SessionID, time.Now().Add(time.Minute)); !errors.Is(err, domain.ErrInternal) {
		t.Fatalf("DenySession over a hash = %v, want ErrInternal", err)
	}
}

func TestDenylistIsSharedBetweenInstances(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	a, b := readyDenylist(t, client, prefix, clock), redis.NewDenylist(client, prefix, clock)
	c := tokenClaims(clock.Now())
	if err := a.DenySession(ctx, c.SessionID, c.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("other instance's Check = %v, want ErrUnauthenticated", err)
	}
	won, err := a.ClaimRefresh(ctx, "jti-x", "from-a", 10*time.Second, c.ExpiresAt)
	if err != nil || won != "from-a" {
		t.Fatalf("ClaimRefresh on a = %q, %v", won, err)
	}
	got, err := b.ClaimRefresh(ctx, "jti-x", "from-b", 10*time.Second, c.ExpiresAt)
	if err != nil || got != "from-a" {
		t.Fatalf("ClaimRefresh on b = %q, %v; want a's successor", got, err)
	}
}
