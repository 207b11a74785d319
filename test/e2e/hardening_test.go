package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
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
	protectAccount(t, s, name, pw)
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

// A header-auth webhook's secret (and a wrong value close to it) never
// reaches the access log, whatever the answer: 413, a wrong method, 429
// and 401 happen before or without the handler's own care.
func TestWebhookRequestsAreScrubbedInTheAccessLogForEveryAnswer(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, edgeRateLimit(4))
	admin := s.AdminToken(t)
	const secret, wrong, inQuery = "hook-secret-a1b2c3d4e5f6", "hook-secret-wrong-9z8y7x", "query-secret-q1w2e3r4t5"
	wfCreate(t, s, admin, map[string]any{
		"name": "scrubbed", "active": true,
		"webhook": map[string]any{"path": "scrub/me", "auth": map[string]any{"type": "header", "name": "X-Sender-Id", "value": secret}},
	})
	send := func(method, body, value string) int {
		return s.DoRaw(t, harness.Req{
			Method: method, Path: "/webhook/scrub/me?state=" + inQuery, Body: body,
			Headers: map[string]string{"X-Sender-Id": value},
		}).Status
	}
	statuses := []int{
		send(http.MethodPost, `{"big":"`+strings.Repeat("x", 2<<20)+`"}`, secret), // 413
		send(http.MethodGet, "", secret),                                          // wrong method
		send(http.MethodPost, `{"a":1}`, wrong),                                   // 401
		send(http.MethodPost, `{"a":1}`, secret),                                  // 202
	}
	for range 4 {
		statuses = append(statuses, send(http.MethodPost, `{"a":1}`, secret)) // runs into 429
	}
	for _, want := range []int{http.StatusRequestEntityTooLarge, http.StatusMethodNotAllowed, http.StatusUnauthorized, http.StatusAccepted, http.StatusTooManyRequests} {
		if !slices.Contains(statuses, want) {
			t.Fatalf("answers %v lack %d: the test did not cover it", statuses, want)
		}
	}
	if found := harness.ContainsAny(s.Logs(), secret, wrong, inQuery); len(found) > 0 {
		t.Fatalf("the access log holds %v (answers %v)", found, statuses)
	}
	if !strings.Contains(s.Logs(), "/webhook/scrub/me") {
		t.Fatal("the deliveries were not logged at all")
	}
}

func TestWebhookSecretsShorterThan16CharactersAreRefused(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, whKey())
	admin := s.AdminToken(t)
	for field, auth := range map[string]map[string]any{
		"webhook.auth.value":    {"type": "header", "name": "X-Token", "value": "fifteen-chars-x"},
		"webhook.auth.password": {"type": "basic", "username": "u", "password": "fifteen-chars-x"},
		"webhook.auth.secret":   {"type": "hmac", "secret": "fifteen-chars-x"},
	} {
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: wfPath, Bearer: admin, Body: map[string]any{"name": "short", "webhook": map[string]any{"path": "short/" + field, "auth": auth}}})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), field) {
			t.Fatalf("%s of 15 characters: %d %s, want 400 naming it", field, r.Status, r.Body)
		}
		auth[strings.TrimPrefix(field, "webhook.auth.")] = "sixteen-chars-xy"
		r = s.Do(t, harness.Req{Method: http.MethodPost, Path: wfPath, Bearer: admin, Body: map[string]any{"name": "ok", "webhook": map[string]any{"path": "ok/" + strings.TrimPrefix(field, "webhook.auth."), "auth": auth}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("%s of 16 characters: %d %s, want 201", field, r.Status, r.Body)
		}
	}
}

// A page of deliveries carries at most 4 MiB of bodies; the others are
// listed with bodyOmitted and read one at a time.
func TestWebhookExecutionsPageBudget(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Server.MaxBodyBytes = 2 << 20 }))
	admin := s.AdminToken(t)
	wf := wfCreate(t, s, admin, map[string]any{"name": "big", "active": true, "webhook": map[string]any{"path": "big/bodies", "auth": map[string]any{"type": "none"}}})
	body := func(i int) string {
		return `{"n":` + fmt.Sprint(i) + `,"pad":"` + strings.Repeat("p", 1<<20-100) + `"}`
	}
	ids := map[string]int{}
	for i := range 6 {
		r := s.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/big/bodies", Body: body(i)})
		if r.Status != http.StatusAccepted {
			t.Fatalf("delivery %d: %d %s", i, r.Status, r.Body)
		}
		var out struct{ ExecutionID string }
		r.JSON(t, &out)
		ids[out.ExecutionID] = i
	}
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "/" + wf.ID + "/executions?limit=250", Bearer: admin})
	var page struct {
		Data []struct {
			ID          string          `json:"id"`
			Body        json.RawMessage `json:"body"`
			BodyOmitted bool            `json:"bodyOmitted"`
		} `json:"data"`
	}
	r.JSON(t, &page)
	total, omitted := 0, []string{}
	for _, e := range page.Data {
		total += len(e.Body)
		if e.BodyOmitted {
			if e.Body != nil {
				t.Fatalf("execution %s is bodyOmitted with a body", e.ID)
			}
			omitted = append(omitted, e.ID)
		}
	}
	if len(page.Data) != 6 || len(omitted) != 2 || total > 4<<20 {
		t.Fatalf("%d executions, %d omitted, %d body bytes; want 6, 2 and at most 4 MiB", len(page.Data), len(omitted), total)
	}
	for _, id := range omitted {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "/" + wf.ID + "/executions/" + id, Bearer: admin})
		var one struct {
			ID          string          `json:"id"`
			Body        json.RawMessage `json:"body"`
			BodyOmitted bool            `json:"bodyOmitted"`
		}
		r.JSON(t, &one)
		if r.Status != http.StatusOK || one.ID != id || one.BodyOmitted || string(one.Body) != body(ids[id]) {
			t.Fatalf("GET execution %s: %d, omitted=%v, %d body bytes", id, r.Status, one.BodyOmitted, len(one.Body))
		}
	}
	other := wfCreate(t, s, admin, map[string]any{"name": "other"})
	for _, path := range []string{
		wfPath + "/" + other.ID + "/executions/" + omitted[0], // another workflow's delivery
		wfPath + "/" + wf.ID + "/executions/no-such-execution",
	} {
		if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: path, Bearer: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", path, r.Status)
		}
	}
}

// A key in its rotation grace still works, so it counts toward
// max_per_user: rotations cannot multiply the keys that work.
func TestRotationGraceCountsTowardMaxPerUser(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Security.APIKeys.MaxPerUser = 2 }))
	_, name, pw := s.CreateUser(t, s.AdminToken(t), "viewer")
	tok := s.Login(t, name, pw)
	k := akCreate(t, s, tok, nil)
	rotate := func(id string, grace int) *harness.Response {
		return s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + id + "/rotate", Bearer: tok, Body: map[string]any{"graceSeconds": grace}})
	}
	r := rotate(k.ID, 3600) // 2 keys work
	akWantStatus(t, r, http.StatusCreated, "")
	var next akIssued
	r.JSON(t, &next)
	for range 4 {
		akWantStatus(t, rotate(next.ID, 3600), http.StatusConflict, "CONFLICT")
	}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Bearer: tok, Body: map[string]any{"name": "third"}}), http.StatusConflict, "CONFLICT")
	working := 0
	for _, key := range []string{k.Key, next.Key} {
		if akMe(t, s, key).Status == http.StatusOK {
			working++
		}
	}
	if list := akListOf(t, s, harness.Req{Bearer: tok}); len(list.Data) != 2 || working != 2 {
		t.Fatalf("%d keys listed, %d working; want 2 and 2", len(list.Data), working)
	}
	// Without a grace the successor replaces its predecessor: no conflict.
	akWantStatus(t, rotate(next.ID, 0), http.StatusCreated, "")
}

func TestAPIKeyExpiresAtIsUTCWithAFourDigitYear(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	tok := s.AdminToken(t)
	for _, bad := range []string{"9999-12-31T23:59:59-23:59", "9999-12-31T23:30:00-01:00"} {
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Bearer: tok, Body: map[string]any{"name": "far", "expiresAt": bad}})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "expiresAt") {
			t.Fatalf("expiresAt %s: %d %s, want 400 naming expiresAt", bad, r.Status, r.Body)
		}
	}
	k := akCreate(t, s, tok, map[string]any{"expiresAt": "2099-06-01T12:00:00+02:00"})
	if k.ExpiresAt == nil || *k.ExpiresAt != "2099-06-01T10:00:00Z" {
		t.Fatalf("expiresAt = %v, want 2099-06-01T10:00:00Z", k.ExpiresAt)
	}
}

// A known public path with a wrong method is 405 (with Allow), also to an
// anonymous caller: the path is public anyway. A protected path keeps its
// 401 to anonymous callers (no route enumeration).
func TestWrongMethodOnAPublicPathIs405(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodPatch, "/api/v1/auth/login", http.MethodPost},
		{http.MethodGet, "/api/v1/auth/login", http.MethodPost},
		{http.MethodPut, "/api/v1/auth/refresh", http.MethodPost},
		{http.MethodPost, "/api/v1/openapi.yaml", http.MethodGet},
		{http.MethodPost, "/health", ""},
		{http.MethodGet, "/webhook/some/path", ""},
	} {
		r := s.DoRaw(t, harness.Req{Method: c.method, Path: c.path})
		if r.Status != http.StatusMethodNotAllowed || r.Code() != "METHOD_NOT_ALLOWED" {
			t.Fatalf("%s %s: %d %s, want 405", c.method, c.path, r.Status, r.Body)
		}
		if c.allow != "" && !strings.Contains(r.Header.Get("Allow"), c.allow) {
			t.Fatalf("%s %s: Allow %q, want it to list %s", c.method, c.path, r.Header.Get("Allow"), c.allow)
		}
	}
	if r := s.DoRaw(t, harness.Req{Method: http.MethodPatch, Path: "/api/v1/auth/me"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("PATCH /api/v1/auth/me anonymous: %d, want 401", r.Status)
	}
}

// What disable, password reset and revoke-credentials each cut off, as the
// README states it.
func TestCuttingOneUserOff(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Now().UTC())
	s := harness.Start(t, harness.WithClock(clock))
	admin := s.AdminToken(t)
	id, name, pw := s.CreateUser(t, admin, "editor")
	tok := s.Login(t, name, pw)
	key := akCreate(t, s, tok, nil)
	works := func(credential harness.Req) bool {
		credential.Method, credential.Path = http.MethodGet, "/api/v1/auth/me"
		return s.Do(t, credential).Status == http.StatusOK
	}
	patch := func(body map[string]any) {
		akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPatch, Path: "/api/v1/users/" + id, Bearer: admin, Body: body}), http.StatusOK, "")
	}
	// A password reset ends the sessions and leaves the keys working.
	pw2 := "reset-" + pw
	patch(map[string]any{"password": pw2})
	if works(harness.Req{Bearer: tok}) || !works(harness.Req{APIKey: key.Key}) {
		t.Fatal("after a password reset: want the session dead and the key working")
	}
	// A disable refuses both; re-enabling brings the key back, not the session.
	tok = s.Login(t, name, pw2)
	patch(map[string]any{"disabled": true})
	if works(harness.Req{Bearer: tok}) || works(harness.Req{APIKey: key.Key}) {
		t.Fatal("while disabled: want session and key refused")
	}
	patch(map[string]any{"disabled": false})
	if works(harness.Req{Bearer: tok}) || !works(harness.Req{APIKey: key.Key}) {
		t.Fatal("after re-enabling: want the session still dead and the key back")
	}
	clock.Advance(2 * time.Second) // past the disable's cut-off second
	// Revoke credentials: every session and every key, for good.
	tok = s.Login(t, name, pw2)
	tok2 := s.Login(t, name, pw2)
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + key.ID + "/rotate", Bearer: tok, Body: map[string]any{"graceSeconds": 3600}})
	akWantStatus(t, r, http.StatusCreated, "")
	var rotated akIssued
	r.JSON(t, &rotated)
	noUsers := akCreate(t, s, admin, map[string]any{"scopes": []string{"api_keys:manage", "workflows:read"}})
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/users/" + id + "/revoke-credentials", APIKey: noUsers.Key}), http.StatusForbidden, "ACCESS_DENIED")
	r = s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/users/" + id + "/revoke-credentials", Bearer: admin})
	akWantStatus(t, r, http.StatusOK, "")
	var out struct{ KeysRevoked int }
	r.JSON(t, &out)
	if out.KeysRevoked != 2 {
		t.Fatalf("keysRevoked = %d, want 2 (the rotated key in its grace and its successor)", out.KeysRevoked)
	}
	for i, c := range []harness.Req{{Bearer: tok}, {Bearer: tok2}, {APIKey: key.Key}, {APIKey: rotated.Key}} {
		if works(c) {
			t.Fatalf("credential %d still works after revoke-credentials", i)
		}
	}
	patch(map[string]any{"disabled": false}) // changes nothing for the keys
	if works(harness.Req{APIKey: rotated.Key}) {
		t.Fatal("a revoked key came back")
	}
	// The account itself is untouched: the user logs in again.
	if !works(harness.Req{Bearer: s.Login(t, name, pw2)}) {
		t.Fatal("the account does not work after revoke-credentials")
	}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/users/no-such-user/revoke-credentials", Bearer: admin}), http.StatusNotFound, "NOT_FOUND")
}
