package e2e_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// The login throttle's known clients survive a Redis restart: the instance
// that rebuilds the denylist replays the networks of recent sessions, so
// after Redis lost its memory the account's owner still gets through
// protected mode (contract §4) from where it logged in before, while a new
// client with the right password gets 429.
func TestKnownClientsSurviveARedisRestart(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "Redis losing its memory; the embedded mode has no Redis")
	rs := testenv.StartRedisServer(t)
	a := behindProxy(t, harness.WithConfig(func(c *config.Config) { c.Redis.URL = rs.URL() }))
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)
	_, name, pw := a.CreateUser(t, admin, "viewer")
	idWantStatus(t, a.Do(t, loginFrom("192.0.2.1", name, pw)), http.StatusOK, "")
	idWantStatus(t, a.Do(t, loginFrom("2001:db8:77:77::1", name, pw)), http.StatusOK, "")

	rdb := rs.Client(t)
	knownSets := func() int {
		keys, err := rdb.Keys(t.Context(), a.Config.Redis.KeyPrefix+"throttle:{login}:k:*").Result()
		if err != nil {
			t.Fatalf("list known-client sets: %v", err)
		}
		return len(keys)
	}
	before := knownSets()
	if before < 2 { // the admin's and the owner's
		t.Fatalf("%d known-client sets before the restart, want at least 2", before)
	}

	rs.Restart(t) // empty: --save "" --appendonly no
	if n := knownSets(); n != 0 {
		t.Fatalf("%d known-client sets right after the restart, want 0", n)
	}
	// No login from the owner's networks before the attack: that would
	// remember them anew. Wait for the rebuild (a live token works on both
	// instances) and the replay (the known sets are back).
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range []*harness.Server{a, b} {
		for idMe(t, s, admin).Status != http.StatusOK {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the denylist was not rebuilt within 20s", s.URL)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for knownSets() < before {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d known-client sets replayed within 20s", knownSets(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The attack: 5 clients × 5 wrong passwords push the account past its
	// per-username limit (20).
	protectAccount(t, a, name, pw)
	idWantStatus(t, a.Do(t, loginFrom("192.0.2.1", name, pw)), http.StatusOK, "")
	idWantStatus(t, a.Do(t, loginFrom("2001:db8:77:77:ab::2", name, pw)), http.StatusOK, "") // the same /64
	idWantStatus(t, a.Do(t, loginFrom("198.51.100.9", name, pw)), http.StatusTooManyRequests, "RATE_LIMITED")
}

// protectAccount has 5 clients guess name's password 5 times each: past the
// per-username limit (20), so a 6th client with the right password pw gets
// 429 with Retry-After.
func protectAccount(t *testing.T, s *harness.Server, name, pw string) {
	t.Helper()
	for c := 1; c <= 5; c++ {
		for i := range 5 {
			r := s.Do(t, loginFrom(fmt.Sprintf("203.0.113.%d", c), name, fmt.Sprintf("wrong-password-%d-%d", c, i)))
			if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
				t.Fatalf("guess %d from client %d: %d", i, c, r.Status)
			}
		}
	}
	r := s.Do(t, loginFrom("203.0.113.6", name, pw))
	idWantStatus(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}
