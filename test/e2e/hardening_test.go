package e2e_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// behindProxy starts an instance that believes X-Forwarded-For from
// 127.0.0.1, so one test can speak from many client addresses.
func behindProxy(t *testing.T, opts ...harness.Option) *harness.Server {
	t.Helper()
	return harness.Start(t, append([]harness.Option{harness.WithConfig(func(c *config.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
	})}, opts...)...)
}

// loginFrom is a login request forwarded for ip.
func loginFrom(ip, username, password string) harness.Req {
	r := idLoginReq(username, password)
	r.Headers = map[string]string{"X-Forwarded-For": ip}
	return r
}

func TestLoginThrottleDistributedGuessing(t *testing.T) {
	t.Parallel()
	s := behindProxy(t)
	admin := s.AdminToken(t)
	_, name, pw := s.CreateUser(t, admin, "viewer")
	_, other, otherPW := s.CreateUser(t, admin, "viewer")
	// The owner logged in from home before the attack.
	idWantStatus(t, s.Do(t, loginFrom("192.0.2.1", name, pw)), http.StatusOK, "")
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
	idWantStatus(t, s.Do(t, loginFrom("192.0.2.1", name, pw)), http.StatusOK, "")
	idWantStatus(t, s.Do(t, loginFrom("203.0.113.6", other, otherPW)), http.StatusOK, "")
}

func TestLoginThrottleCountsAnIPv6SlashSixtyFourOnce(t *testing.T) {
	t.Parallel()
	s := behindProxy(t)
	_, name, _ := s.CreateUser(t, s.AdminToken(t), "viewer")
	var statuses []int
	for i := 1; i <= 8; i++ {
		statuses = append(statuses, s.Do(t, loginFrom(fmt.Sprintf("2001:db8:42:42:%x::1", i), name, "wrong-password-v6")).Status)
	}
	if want := []int{401, 401, 401, 401, 401, 429, 429, 429}; !equalInts(statuses, want) {
		t.Fatalf("8 addresses of one /64: %v, want %v", statuses, want)
	}
}
