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

// usernameContract covers the per-username level, known clients, client
// networks and Release (contract §4).
func usernameContract(t *testing.T, setup func(*testing.T, port.ThrottleLimits) (port.LoginThrottle, *memory.Clock)) {
	ctx := context.Background()
	const window = 15 * time.Minute
	std := port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, MaxPerUsername: 20, Window: window, KnownClientTTL: 30 * 24 * time.Hour}
	const known, stranger = "192.0.2.10", "192.0.2.99"
	do := func(t *testing.T, call func(context.Context, port.LoginAttempt) (time.Duration, error), a port.LoginAttempt) time.Duration {
		t.Helper()
		d, err := call(ctx, a)
		noErr(t, err)
		return d
	}
	// botnet has n clients try username k times each, counted as failures
	// by Reserve, and returns how many attempts were let through.
	botnet := func(t *testing.T, l port.LoginThrottle, username string, n, k int) int {
		t.Helper()
		judged := 0
		for c := range n {
			for range k {
				if do(t, l.Reserve, attempt(username, fmt.Sprintf("203.0.113.%d", c+1))) == 0 {
					judged++
				}
			}
		}
		return judged
	}

	t.Run("5 clients x 5 failures protect the account: strangers 429, known clients and other accounts pass", func(t *testing.T) {
		l, clock := setup(t, std)
		// The owner logged in from known before the attack.
		if d := do(t, l.Reserve, attempt("alice", known)); d != 0 {
			t.Fatalf("owner's login: Reserve = %v, want 0", d)
		}
		noErr(t, l.Forgive(ctx, attempt("alice", known)))
		clock.Advance(time.Minute)
		if judged := botnet(t, l, "alice", 5, 5); judged != 20 {
			t.Fatalf("the botnet had %d guesses judged, want exactly MaxPerUsername = 20", judged)
		}
		// A sixth client is refused before its (right) password is judged,
		// until the username's window (opened by the owner's login a minute
		// ago) ends.
		if d := do(t, l.Reserve, attempt("alice", stranger)); d != window-time.Minute {
			t.Fatalf("a 6th client: Reserve = %v, want %v", d, window-time.Minute)
		}
		if d := do(t, l.Check, attempt("ALICE", stranger)); d != window-time.Minute {
			t.Fatalf("a 6th client: Check = %v, want %v", d, window-time.Minute)
		}
		if d := do(t, l.Reserve, attempt("alice", known)); d != 0 {
			t.Fatalf("the known client: Reserve = %v, want 0 (protected, not locked)", d)
		}
		noErr(t, l.Forgive(ctx, attempt("alice", known)))
		if d := do(t, l.Reserve, attempt("bob", stranger)); d != 0 {
			t.Fatalf("another account: Reserve = %v, want 0", d)
		}
		clock.Advance(window)
		if d := do(t, l.Reserve, attempt("alice", stranger)); d != 0 {
			t.Fatalf("after the window: Reserve = %v, want 0", d)
		}
	})

	t.Run("a known client is still limited per username+client", func(t *testing.T) {
		l, _ := setup(t, std)
		noErr(t, l.Forgive(ctx, attempt("alice", known)))
		botnet(t, l, "alice", 5, 5)
		for i := 1; i <= 5; i++ {
			if d := do(t, l.Fail, attempt("alice", known)); d != 0 {
				t.Fatalf("known client's failure %d: Fail = %v, want 0", i, d)
			}
		}
		if d := do(t, l.Fail, attempt("alice", known)); d <= 0 {
			t.Fatalf("known client's 6th failure: Fail = %v, want > 0", d)
		}
	})

	t.Run("8 addresses of one IPv6 /64 are one client", func(t *testing.T) {
		l, _ := setup(t, std)
		for i := 1; i <= 5; i++ {
			if d := do(t, l.Fail, attempt("alice", fmt.Sprintf("2001:db8:1:2::%x", i))); d != 0 {
				t.Fatalf("failure %d from the /64: Fail = %v, want 0", i, d)
			}
		}
		for i := 6; i <= 8; i++ {
			if d := do(t, l.Reserve, attempt("alice", fmt.Sprintf("2001:db8:1:2:%x::1", i))); d <= 0 {
				t.Fatalf("address %d of the /64: Reserve = %v, want > 0 (one counter per /64)", i, d)
			}
		}
		if d := do(t, l.Check, attempt("alice", "2001:db8:1:3::1")); d != 0 {
			t.Fatalf("the next /64: Check = %v, want 0", d)
		}
		if d := do(t, l.Check, attempt("alice", "::ffff:198.51.100.7")); d != 0 {
			t.Fatalf("an IPv4 client: Check = %v, want 0", d)
		}
	})

	t.Run("a client known through its /64 or its device", func(t *testing.T) {
		l, _ := setup(t, std)
		noErr(t, l.Forgive(ctx, attempt("alice", "2001:db8:5:5::1")))
		noErr(t, l.Forgive(ctx, port.NewLoginAttempt("alice", principal.Client{IP: known, Device: "device-1"})))
		botnet(t, l, "alice", 5, 5)
		if d := do(t, l.Reserve, attempt("alice", "2001:db8:5:5:ffff::2")); d != 0 {
			t.Fatalf("another address of the known /64: Reserve = %v, want 0", d)
		}
		if d := do(t, l.Reserve, port.NewLoginAttempt("alice", principal.Client{IP: stranger, Device: "device-1"})); d != 0 {
			t.Fatalf("the known device from a new network: Reserve = %v, want 0", d)
		}
		if d := do(t, l.Reserve, port.NewLoginAttempt("alice", principal.Client{IP: stranger, Device: "device-2"})); d <= 0 {
			t.Fatalf("an unknown device from a new network: Reserve = %v, want > 0", d)
		}
		if d := do(t, l.Reserve, port.NewLoginAttempt("bob", principal.Client{IP: stranger, Device: "device-1"})); d != 0 {
			t.Fatalf("another account: Reserve = %v, want 0", d)
		}
	})

	t.Run("a client stays known for KnownClientTTL only", func(t *testing.T) {
		limits := std
		limits.KnownClientTTL = time.Hour
		l, clock := setup(t, limits)
		noErr(t, l.Forgive(ctx, attempt("alice", known)))
		clock.Advance(time.Hour)
		botnet(t, l, "alice", 5, 5)
		if d := do(t, l.Reserve, attempt("alice", known)); d <= 0 {
			t.Fatalf("a client last seen KnownClientTTL ago: Reserve = %v, want > 0", d)
		}
	})

	t.Run("successes from many clients never add up to the per-username limit", func(t *testing.T) {
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, MaxPerUsername: 3, Window: window})
		for i := range 50 {
			a := attempt("alice", fmt.Sprintf("198.51.100.%d", i+1))
			if d := do(t, l.Reserve, a); d != 0 {
				t.Fatalf("successful login %d: Reserve = %v, want 0", i, d)
			}
			noErr(t, l.Forgive(ctx, a))
		}
		if judged := botnet(t, l, "alice", 4, 1); judged != 3 {
			t.Fatalf("%d failures from new clients were judged, want MaxPerUsername = 3", judged)
		}
	})

	t.Run("Release gives a reserved unit back to every counter and remembers nothing", func(t *testing.T) {
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 2, MaxPerIP: 2, MaxPerUsername: 2, Window: window})
		for i := range 10 {
			if d := do(t, l.Reserve, attempt("alice", known)); d != 0 {
				t.Fatalf("attempt %d that the server failed: Reserve = %v, want 0", i, d)
			}
			noErr(t, l.Release(ctx, attempt("alice", known)))
		}
		if d := do(t, l.Check, attempt("alice", known)); d != 0 {
			t.Fatalf("Check after 10 released attempts = %v, want 0", d)
		}
		noErr(t, l.Release(ctx, attempt("nobody", stranger))) // releasing nothing is fine
		// Real failures from other clients still protect the account, and
		// the released attempts did not make known a known client.
		botnet(t, l, "alice", 3, 1)
		if d := do(t, l.Reserve, attempt("alice", known)); d <= 0 {
			t.Fatalf("Reserve from a client that never logged in = %v, want > 0", d)
		}
	})

	t.Run("30 concurrent Reserves from 30 clients judge exactly MaxPerUsername", func(t *testing.T) {
		l, _ := setup(t, std)
		const n = 30
		judged := letThrough(t, n, func(i int) (time.Duration, error) {
			return l.Reserve(ctx, attempt("alice", fmt.Sprintf("203.0.113.%d", i+1)))
		})
		if judged != 20 {
			t.Fatalf("%d of %d concurrent Reserves from distinct clients were judged, want 20", judged, n)
		}
	})
}
