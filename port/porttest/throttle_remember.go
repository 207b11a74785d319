package porttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// rememberContract covers Remember: known clients rebuilt from sessions,
// bounded like the ones Forgive remembers.
func rememberContract(t *testing.T, setup func(*testing.T, port.ThrottleLimits) (port.LoginThrottle, *memory.Clock)) {
	ctx := context.Background()
	limits := port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, MaxPerUsername: 20, Window: 15 * time.Minute, KnownClientTTL: time.Hour}
	const known, stranger = "192.0.2.10", "192.0.2.99"
	// protect has 25 strangers fail at username once each: past its limit.
	protect := func(t *testing.T, l port.LoginThrottle, username string) {
		t.Helper()
		for c := range 25 {
			_, err := l.Fail(ctx, attempt(username, fmt.Sprintf("203.0.113.%d", c+1)))
			noErr(t, err)
		}
	}
	passes := func(t *testing.T, l port.LoginThrottle, a port.LoginAttempt) bool {
		t.Helper()
		d, err := l.Check(ctx, a)
		noErr(t, err)
		return d == 0
	}
	kc := func(a port.LoginAttempt, at time.Time) port.KnownClient {
		return port.KnownClient{LoginAttempt: a, At: at}
	}

	t.Run("Remember makes a client known as of its time and counts nothing", func(t *testing.T) {
		l, clock := setup(t, limits)
		now := clock.Now()
		noErr(t, l.Remember(ctx))
		noErr(t, l.Remember(ctx,
			kc(attempt("Alice", known), now.Add(-10*time.Minute)),
			kc(port.NewLoginAttempt("alice", principal.Client{IP: "2001:db8:7:7::1", Device: "device-1"}), now.Add(-time.Minute)),
			kc(attempt("bob", stranger), now.Add(-time.Minute)),
		))
		// Remember counted nothing: exactly MaxPerUsername strangers' failures
		// are tolerated before the account is protected.
		for c := range 20 {
			d, err := l.Reserve(ctx, attempt("alice", fmt.Sprintf("203.0.113.%d", c+1)))
			noErr(t, err)
			if d != 0 {
				t.Fatalf("stranger %d after Remember: Reserve = %v, want 0", c+1, d)
			}
		}
		protect(t, l, "alice")
		if passes(t, l, attempt("alice", stranger)) {
			t.Fatal("a stranger passes the protected account, want throttled")
		}
		if !passes(t, l, attempt("alice", known)) {
			t.Fatal("the remembered client is throttled, want it known")
		}
		if !passes(t, l, attempt("alice", "2001:db8:7:7:abcd::9")) {
			t.Fatal("another address of a remembered /64 is throttled, want it known")
		}
		if !passes(t, l, port.NewLoginAttempt("alice", principal.Client{IP: stranger, Device: "device-1"})) {
			t.Fatal("the remembered device from a new network is throttled, want it known")
		}
		// bob's client is known to bob only.
		protect(t, l, "bob")
		if !passes(t, l, attempt("bob", stranger)) || passes(t, l, attempt("bob", known)) {
			t.Fatal("bob's known clients are not exactly the one remembered for bob")
		}
		// The client stays known for KnownClientTTL after its time, not after
		// Remember: 10 minutes ago + 50 minutes is a TTL.
		clock.Advance(49 * time.Minute)
		protect(t, l, "alice")
		if !passes(t, l, attempt("alice", known)) {
			t.Fatal("a client remembered 59 minutes ago is throttled, want known (TTL 1h)")
		}
		clock.Advance(time.Minute)
		if passes(t, l, attempt("alice", known)) {
			t.Fatal("a client remembered a TTL ago still passes, want throttled")
		}
	})

	t.Run("Remember is idempotent and keeps the later time", func(t *testing.T) {
		l, clock := setup(t, limits)
		now := clock.Now()
		later := kc(attempt("alice", known), now.Add(-10*time.Minute))
		noErr(t, l.Remember(ctx, later, later))
		noErr(t, l.Remember(ctx, kc(attempt("alice", known), now.Add(-50*time.Minute)), later))
		clock.Advance(45 * time.Minute) // 55 minutes after the later time
		protect(t, l, "alice")
		if !passes(t, l, attempt("alice", known)) {
			t.Fatal("an earlier time replaced the later one, want the later kept")
		}
		// A success (Forgive) after a Remember of an earlier time wins too.
		noErr(t, l.Forgive(ctx, attempt("carol", known)))
		noErr(t, l.Remember(ctx, kc(attempt("carol", known), clock.Now().Add(-59*time.Minute))))
		clock.Advance(30 * time.Minute)
		protect(t, l, "carol")
		if !passes(t, l, attempt("carol", known)) {
			t.Fatal("Remember of an earlier time undid a later success")
		}
	})

	t.Run("Remember ignores times a TTL old and takes future times as now", func(t *testing.T) {
		l, clock := setup(t, limits)
		now := clock.Now()
		noErr(t, l.Remember(ctx,
			kc(attempt("alice", known), now.Add(-time.Hour)),
			kc(attempt("dave", known), now.Add(24*time.Hour)),
		))
		protect(t, l, "alice")
		if passes(t, l, attempt("alice", known)) {
			t.Fatal("a client remembered as of a TTL ago passes, want throttled")
		}
		clock.Advance(time.Hour)
		protect(t, l, "dave")
		if passes(t, l, attempt("dave", known)) {
			t.Fatal("a client remembered in the future is still known a TTL later, want its time taken as now")
		}
	})

	t.Run("Remember keeps an account's MaxKnownClients most recent clients", func(t *testing.T) {
		l, clock := setup(t, limits)
		now := clock.Now()
		var clients []port.KnownClient
		for i := range port.MaxKnownClients + 1 {
			// Client 0 is the oldest.
			clients = append(clients, kc(attempt("alice", fmt.Sprintf("198.51.100.%d", i+1)), now.Add(time.Duration(i-50)*time.Second)))
		}
		noErr(t, l.Remember(ctx, clients...))
		protect(t, l, "alice")
		if passes(t, l, clients[0].LoginAttempt) {
			t.Fatalf("the oldest of %d remembered clients passes, want it dropped", len(clients))
		}
		for _, c := range clients[1:] {
			if !passes(t, l, c.LoginAttempt) {
				t.Fatalf("remembered client %s is throttled, want known", c.Client)
			}
		}
	})
}
