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

// attempt is the login attempt of username from ip.
func attempt(username, ip string) port.LoginAttempt {
	return port.NewLoginAttempt(username, principal.Client{IP: ip})
}

// letThrough runs n racing calls (allAtOnce), fails on any error and
// counts the results that let their attempt through (0).
func letThrough(t *testing.T, n int, call func(i int) (time.Duration, error)) int {
	t.Helper()
	results, errs := allAtOnce(n, call)
	n = 0
	for i := range results {
		noErr(t, errs[i])
		if results[i] == 0 {
			n++
		}
	}
	return n
}

// LoginThrottle runs the contract of port.LoginThrottle. newThrottle returns
// an empty throttle with the given limits that tells time by clock; windows
// are checked by moving the clock.
func LoginThrottle(t *testing.T, newThrottle func(t *testing.T, clock *memory.Clock, limits port.ThrottleLimits) port.LoginThrottle) {
	ctx := context.Background()
	const window = 15 * time.Minute
	std := port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, MaxPerUsername: 20, Window: window}
	const ip, otherIP = "198.51.100.4", "2001:db8::1"

	setup := func(t *testing.T, limits port.ThrottleLimits) (port.LoginThrottle, *memory.Clock) {
		clock := memory.NewClock(base)
		return newThrottle(t, clock, limits), clock
	}
	check := func(t *testing.T, l port.LoginThrottle, user, ip string) time.Duration {
		t.Helper()
		d, err := l.Check(ctx, attempt(user, ip))
		noErr(t, err)
		return d
	}
	fail := func(t *testing.T, l port.LoginThrottle, user, ip string) time.Duration {
		t.Helper()
		d, err := l.Fail(ctx, attempt(user, ip))
		noErr(t, err)
		return d
	}

	reserve := func(t *testing.T, l port.LoginThrottle, user, ip string) time.Duration {
		t.Helper()
		d, err := l.Reserve(ctx, attempt(user, ip))
		noErr(t, err)
		return d
	}

	t.Run("nobody is throttled at first and Check counts nothing", func(t *testing.T) {
		l, _ := setup(t, std)
		for range 20 {
			if d := check(t, l, "alice", ip); d != 0 {
				t.Fatalf("Check = %v, want 0", d)
			}
		}
	})

	t.Run("the limit tolerates MaxPerUser failures and the next one crosses", func(t *testing.T) {
		l, clock := setup(t, std)
		for i := 1; i <= 5; i++ {
			if d := fail(t, l, "alice", ip); d != 0 {
				t.Fatalf("failure %d: Fail = %v, want 0", i, d)
			}
			if d := check(t, l, "alice", ip); d != 0 {
				t.Fatalf("after failure %d: Check = %v, want 0", i, d)
			}
			clock.Advance(time.Minute)
		}
		// The window opened at the first failure, 5 minutes ago.
		if d := fail(t, l, "alice", ip); d != window-5*time.Minute {
			t.Fatalf("6th failure: Fail = %v, want %v", d, window-5*time.Minute)
		}
		if d := check(t, l, "alice", ip); d != window-5*time.Minute {
			t.Fatalf("Check = %v, want %v", d, window-5*time.Minute)
		}
		if d := fail(t, l, "alice", ip); d <= 0 {
			t.Fatalf("7th failure: Fail = %v, want > 0", d)
		}
		if d := check(t, l, "ALICE ", ip); d <= 0 {
			t.Fatalf("Check(differently written username) = %v, want > 0", d)
		}
		if d := check(t, l, "bob", ip); d != 0 {
			t.Fatalf("Check(other user, same IP) = %v, want 0", d)
		}
		if d := check(t, l, "alice", otherIP); d != 0 {
			t.Fatalf("Check(same user, other IP) = %v, want 0", d)
		}
	})

	t.Run("the window ends by itself and counting starts again", func(t *testing.T) {
		l, clock := setup(t, std)
		for range 6 {
			fail(t, l, "alice", ip)
		}
		clock.Advance(window - time.Millisecond)
		if d := check(t, l, "alice", ip); d != time.Millisecond {
			t.Fatalf("Check just before the window ends = %v, want 1ms", d)
		}
		clock.Advance(time.Millisecond)
		if d := check(t, l, "alice", ip); d != 0 {
			t.Fatalf("Check after the window = %v, want 0", d)
		}
		for i := 1; i <= 5; i++ {
			if d := fail(t, l, "alice", ip); d != 0 {
				t.Fatalf("failure %d of the new window: Fail = %v, want 0", i, d)
			}
		}
		if d := fail(t, l, "alice", ip); d != window {
			t.Fatalf("6th failure of the new window: Fail = %v, want %v", d, window)
		}
	})

	t.Run("forgiven attempts never add up to the per-IP limit", func(t *testing.T) {
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 8, Window: window})
		// 50 successful logins, each counted first and then forgiven.
		for i := range 50 {
			if d := fail(t, l, fmt.Sprintf("user%d", i%3), ip); d != 0 {
				t.Fatalf("successful login %d was throttled: Fail = %v", i, d)
			}
			noErr(t, l.Forgive(ctx, attempt(fmt.Sprintf("user%d", i%3), ip)))
		}
		if d := check(t, l, "alice", ip); d != 0 {
			t.Fatalf("Check after 50 forgiven attempts = %v, want 0", d)
		}
		// Real failures still count in full: 8 pass, the 9th crosses.
		for i := 1; i <= 8; i++ {
			if d := fail(t, l, fmt.Sprintf("guess%d", i), ip); d != 0 {
				t.Fatalf("failure %d: Fail = %v, want 0", i, d)
			}
		}
		if d := fail(t, l, "guess9", ip); d <= 0 {
			t.Fatalf("9th failure from the IP: Fail = %v, want > 0", d)
		}
		// Forgiving a username's attempt clears its own counter too.
		for range 6 {
			fail(t, l, "mallory", otherIP)
		}
		noErr(t, l.Forgive(ctx, attempt("Mallory", otherIP)))
		if d := check(t, l, "mallory", otherIP); d != 0 {
			t.Fatalf("Check after Forgive = %v, want 0", d)
		}
		noErr(t, l.Forgive(ctx, attempt("nobody", "203.0.113.250"))) // forgiving nothing is fine
	})

	t.Run("the per-IP limit spans usernames", func(t *testing.T) {
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 10, Window: window})
		for i := range 10 {
			if d := fail(t, l, fmt.Sprintf("user%d", i), ip); d != 0 {
				t.Fatalf("IP failure %d: Fail = %v, want 0", i+1, d)
			}
		}
		if d := fail(t, l, "user10", ip); d != window {
			t.Fatalf("11th IP failure: Fail = %v, want %v", d, window)
		}
		if d := check(t, l, "never-tried", ip); d != window {
			t.Fatalf("Check(any user from the IP) = %v, want %v", d, window)
		}
		if d := check(t, l, "never-tried", otherIP); d != 0 {
			t.Fatalf("Check(other IP) = %v, want 0", d)
		}
	})

	t.Run("30 concurrent failures count exactly 30", func(t *testing.T) {
		// MaxPerIP 30: the IP counter must reach exactly 30 (not over), so one
		// more failure from the IP crosses it; MaxPerUser 5: exactly 25 of
		// the 30 see their failure over the limit.
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 30, Window: window})
		const n = 30
		results, errs := allAtOnce(n, func(int) (time.Duration, error) { return l.Fail(ctx, attempt("alice", ip)) })
		over := 0
		for i := range n {
			noErr(t, errs[i])
			if results[i] > 0 {
				over++
			}
		}
		if over != n-5 {
			t.Fatalf("%d of %d concurrent failures reported over the limit, want %d", over, n, n-5)
		}
		if d := check(t, l, "bob", ip); d != 0 {
			t.Fatalf("Check(other user) = %v with exactly 30 IP failures, want 0", d)
		}
		if d := fail(t, l, "bob", ip); d <= 0 {
			t.Fatalf("31st IP failure: Fail = %v, want > 0", d)
		}
	})

	reserveContract(t, setup, check, fail, reserve)
	usernameContract(t, setup)
	rememberContract(t, setup)
}

// reserveContract covers Reserve: Check then Fail as one atomic step.
func reserveContract(t *testing.T,
	setup func(*testing.T, port.ThrottleLimits) (port.LoginThrottle, *memory.Clock),
	check, fail, reserve func(*testing.T, port.LoginThrottle, string, string) time.Duration,
) {
	ctx := context.Background()
	const window = 15 * time.Minute
	const ip, otherIP = "198.51.100.4", "2001:db8::1"

	t.Run("Reserve counts like Fail until a limit is crossed", func(t *testing.T) {
		l, clock := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, Window: window})
		for i := 1; i <= 5; i++ {
			if d := reserve(t, l, "alice", ip); d != 0 {
				t.Fatalf("attempt %d: Reserve = %v, want 0", i, d)
			}
			clock.Advance(time.Minute)
		}
		// The 6th attempt is counted and crosses; the window opened 5 minutes ago.
		if d := reserve(t, l, "Alice", ip); d != window-5*time.Minute {
			t.Fatalf("6th attempt: Reserve = %v, want %v", d, window-5*time.Minute)
		}
		if d := check(t, l, "alice", ip); d != window-5*time.Minute {
			t.Fatalf("Check = %v, want %v", d, window-5*time.Minute)
		}
		clock.Advance(time.Minute)
		if d := reserve(t, l, "alice", ip); d != window-6*time.Minute {
			t.Fatalf("throttled Reserve = %v, want what Check says (%v)", d, window-6*time.Minute)
		}
		if d := reserve(t, l, "bob", ip); d != 0 {
			t.Fatalf("Reserve(other user, same IP) = %v, want 0", d)
		}
		if d := reserve(t, l, "alice", otherIP); d != 0 {
			t.Fatalf("Reserve(same user, other IP) = %v, want 0", d)
		}
		clock.Advance(window)
		if d := reserve(t, l, "alice", ip); d != 0 {
			t.Fatalf("Reserve after the window = %v, want 0", d)
		}
	})

	t.Run("a throttled Reserve counts nothing", func(t *testing.T) {
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 2, MaxPerIP: 5, Window: window})
		for i := 1; i <= 3; i++ { // the 3rd crosses the username+IP limit: 3 IP attempts
			reserve(t, l, "alice", ip)
		}
		for i := range 20 {
			if d := reserve(t, l, "alice", ip); d <= 0 {
				t.Fatalf("throttled attempt %d: Reserve = %v, want > 0", i, d)
			}
		}
		// Had the throttled ones counted, the IP would be far over 5 by now.
		for _, u := range []string{"bob", "carol"} {
			if d := reserve(t, l, u, ip); d != 0 {
				t.Fatalf("Reserve(%s) = %v, want 0 (the throttled attempts must not count)", u, d)
			}
		}
		if d := reserve(t, l, "dave", ip); d != window {
			t.Fatalf("6th counted IP attempt: Reserve = %v, want %v", d, window)
		}
		if d := reserve(t, l, "erin", ip); d != window {
			t.Fatalf("Reserve with the IP over its limit = %v, want %v", d, window)
		}
		if d := fail(t, l, "erin", otherIP); d != 0 {
			t.Fatalf("Fail(other IP) = %v, want 0", d)
		}
	})

	t.Run("reserved and forgiven attempts never add up", func(t *testing.T) {
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 8, Window: window})
		for i := range 50 {
			if d := reserve(t, l, fmt.Sprintf("user%d", i%3), ip); d != 0 {
				t.Fatalf("successful login %d was throttled: Reserve = %v", i, d)
			}
			noErr(t, l.Forgive(ctx, attempt(fmt.Sprintf("user%d", i%3), ip)))
		}
		if d := check(t, l, "alice", ip); d != 0 {
			t.Fatalf("Check after 50 forgiven attempts = %v, want 0", d)
		}
	})

	t.Run("30 concurrent Reserves judge exactly MaxPerUser", func(t *testing.T) {
		// MaxPerUser 5: five attempts get judged (0), the sixth is counted and
		// crosses, the other 24 are refused uncounted. MaxPerIP 8 shows what
		// was counted: 6, so two more from the IP pass and the third crosses.
		l, _ := setup(t, port.ThrottleLimits{MaxPerUser: 5, MaxPerIP: 8, Window: window})
		const n = 30
		judged := letThrough(t, n, func(int) (time.Duration, error) { return l.Reserve(ctx, attempt("alice", ip)) })
		if judged != 5 {
			t.Fatalf("%d of %d concurrent Reserves were let through, want 5", judged, n)
		}
		for _, u := range []string{"bob", "carol"} {
			if d := reserve(t, l, u, ip); d != 0 {
				t.Fatalf("Reserve(%s) = %v, want 0 (only 6 of the 30 may count)", u, d)
			}
		}
		if d := reserve(t, l, "dave", ip); d <= 0 {
			t.Fatalf("9th counted IP attempt: Reserve = %v, want > 0", d)
		}
	})
}
