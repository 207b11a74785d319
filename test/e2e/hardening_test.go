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

// An admin's API key acts with its scopes, not its owner's role: managing
// another user's keys or workflows needs users:manage in the key's scopes.
func TestNarrowlyScopedAdminKeys(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	aliceID, alice, alicePw := s.CreateUser(t, admin, "editor")
	aliceTok := s.Login(t, alice, alicePw)
	aliceKey := akCreate(t, s, aliceTok, nil)
	aliceWF := wfCreate(t, s, aliceTok, map[string]any{"name": "alice's"})

	keysOnly := akCreate(t, s, admin, map[string]any{"scopes": []string{"api_keys:manage"}})
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: akPath + "?userId=" + aliceID, APIKey: keysOnly.Key}), http.StatusForbidden, "ACCESS_DENIED")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + aliceKey.ID, APIKey: keysOnly.Key}), http.StatusForbidden, "ACCESS_DENIED")
	if own := akListOf(t, s, harness.Req{APIKey: keysOnly.Key}); len(own.Data) == 0 {
		t.Fatal("the key does not list its owner's keys")
	}
	akWantStatus(t, akMe(t, s, aliceKey.Key), http.StatusOK, "")

	wfOnly := akCreate(t, s, admin, map[string]any{"scopes": []string{"workflows:read", "workflows:write"}})
	upd := map[string]any{"name": "taken over", "active": false, "nodes": []any{}, "connections": map[string]any{}}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPut, Path: wfPath + "/" + aliceWF.ID, APIKey: wfOnly.Key, Body: upd}), http.StatusForbidden, "ACCESS_DENIED")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: wfPath + "/" + aliceWF.ID, APIKey: wfOnly.Key}), http.StatusForbidden, "ACCESS_DENIED")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "/" + aliceWF.ID, APIKey: wfOnly.Key}), http.StatusOK, "")

	// With users:manage among its scopes, the key manages others' too.
	full := akCreate(t, s, admin, map[string]any{"scopes": []string{"api_keys:manage", "users:manage", "workflows:write"}})
	if list := akListOf(t, s, harness.Req{Path: akPath + "?userId=" + aliceID, APIKey: full.Key}); len(list.Data) != 1 {
		t.Fatalf("a key with users:manage lists %d of alice's keys, want 1", len(list.Data))
	}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPut, Path: wfPath + "/" + aliceWF.ID, APIKey: full.Key, Body: upd}), http.StatusOK, "")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + aliceKey.ID, APIKey: full.Key}), http.StatusNoContent, "")
}

// Listing sessions shows where and with what a user logs in: it needs a
// session credential, never an API key (whatever its scopes) or basic auth.
func TestSessionsListNeedsASession(t *testing.T) {
	t.Parallel()
	basic := [2]string{"ops", "ops-password-long-enough"}
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: basic[0], Password: basic[1]}
	}))
	_, name, pw := s.CreateUser(t, s.AdminToken(t), "viewer")
	tok := s.Login(t, name, pw)
	for _, scopes := range [][]string{{"workflows:read"}, {"workflows:read", "api_keys:manage"}} {
		k := akCreate(t, s, tok, map[string]any{"scopes": scopes})
		akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", APIKey: k.Key}), http.StatusForbidden, "ACCESS_DENIED")
	}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Basic: basic}), http.StatusForbidden, "ACCESS_DENIED")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Bearer: tok}), http.StatusOK, "")
}
