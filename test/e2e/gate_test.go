package e2e_test

import (
	"fmt"
	"net/http"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// Helpers of the request-gate tests (revocation check and rate budget in one
// Redis script) are prefixed "gate".

// With rate limiting on, an authenticated JWT request costs at most one
// Redis round trip in all (none when the instance follows the revocation
// feed and holds a slice of the budget), whether its budget lets it
// through or answers 429.
func TestGateJWTRequestCostsOneRedisRoundTrip(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "counts Redis round trips")
	const burst = 5
	counter := &idCounter{}
	s := harness.Start(t, edgeRateLimit(burst), harness.WithFx(fx.Decorate(func(rdb goredis.UniversalClient) goredis.UniversalClient {
		rdb.AddHook(counter)
		return rdb
	})), rvNoWatch())
	tok := s.AdminToken(t)
	// The first request loads the script into Redis (EVALSHA, NOSCRIPT,
	// EVAL) and may open a connection; from then on each costs one call.
	r := idMe(t, s, tok)
	idWantStatus(t, r, http.StatusOK, "")
	for i := 1; i < burst+3; i++ {
		counter.reset()
		r := idMe(t, s, tok)
		if got := counter.redis.Load(); got > 1 {
			t.Errorf("request %d (%d) cost %d Redis round trips %v, want at most 1", i+1, r.Status, got, counter.commands())
		}
		if i < burst {
			idWantStatus(t, r, http.StatusOK, "")
			if got := edgeInt(t, r.Header, "X-RateLimit-Remaining"); got != burst-1-i {
				t.Errorf("request %d: X-RateLimit-Remaining %d, want %d", i+1, got, burst-1-i)
			}
			continue
		}
		// Over budget with a valid token: 429 with the budget, not 401.
		idWantStatus(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
		if edgeInt(t, r.Header, "X-RateLimit-Limit") != 1 || edgeInt(t, r.Header, "X-RateLimit-Remaining") != 0 {
			t.Errorf("429 budget headers: %v", r.Header)
		}
		if got := edgeInt(t, r.Header, "Retry-After"); got < 58 || got > 60 {
			t.Errorf("Retry-After %d, want about 60", got)
		}
		if got := edgeInt(t, r.Header, "X-RateLimit-Reset"); got < 60*burst-2 || got > 60*burst {
			t.Errorf("X-RateLimit-Reset %d, want about %d", got, 60*burst)
		}
	}
}

// A thief replaying a logged-out token gets 401 and spends none of the
// victim's budget: the token's revocation is judged before, and in the same
// script as, the spending.
func TestGateRevokedTokenDoesNotDrainTheBudget(t *testing.T) {
	t.Parallel()
	const burst = 3
	// Behind a trusted proxy every client IP has its own budget, so the IP
	// budgets of logins and refused tokens do not get in the way.
	s := harness.Start(t, edgeRateLimit(burst), harness.WithConfig(func(c *config.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1"}
	}))
	from := func(r harness.Req, ip string) harness.Req {
		r.Headers = map[string]string{"X-Forwarded-For": ip}
		return r
	}
	login := func(name, pw, ip string) string {
		t.Helper()
		r := s.Do(t, from(idLoginReq(name, pw), ip))
		idWantStatus(t, r, http.StatusOK, "")
		var out struct{ Token string }
		r.JSON(t, &out)
		return out.Token
	}
	_, name, pw := s.CreateUser(t, s.AdminToken(t), "editor")
	stolen := login(name, pw, "198.51.100.1")
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: stolen})
	idWantStatus(t, r, http.StatusNoContent, "")
	if got := edgeInt(t, r.Header, "X-RateLimit-Remaining"); got != burst-1 {
		t.Fatalf("logout: X-RateLimit-Remaining %d, want %d", got, burst-1)
	}
	for i := range 3 * burst {
		r := s.Do(t, from(harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: stolen}, fmt.Sprintf("203.0.113.%d", i+1)))
		idWantStatus(t, r, http.StatusUnauthorized, "")
		if got := r.Header.Get("X-RateLimit-Remaining"); got != fmt.Sprint(burst-1) {
			// The refused request paid with the thief's IP budget (full).
			t.Errorf("revoked attempt %d: X-RateLimit-Remaining %q, want the thief's IP budget %d", i+1, got, burst-1)
		}
	}
	// The victim logs in again: everything the logout left is still there.
	fresh := login(name, pw, "198.51.100.2")
	for i := range burst - 1 {
		r := idMe(t, s, fresh)
		idWantStatus(t, r, http.StatusOK, "")
		if got := edgeInt(t, r.Header, "X-RateLimit-Remaining"); got != burst-2-i {
			t.Fatalf("victim request %d: X-RateLimit-Remaining %d, want %d", i+1, got, burst-2-i)
		}
	}
	idWantStatus(t, idMe(t, s, fresh), http.StatusTooManyRequests, "RATE_LIMITED")
	if leaked := harness.ContainsAny(s.Logs(), stolen, fresh, pw); len(leaked) > 0 {
		t.Errorf("secrets in the logs: %d found", len(leaked))
	}
}
