package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

const refreshPath = "/api/v1/auth/refresh"

type idToken struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
}

func idRefresh(t *testing.T, s *harness.Server, token string) (*harness.Response, idToken) {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: refreshPath, Bearer: token})
	var tok idToken
	if r.Status == http.StatusOK {
		r.JSON(t, &tok)
	}
	return r, tok
}

func TestRefreshRotatesWithGrace(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Now().UTC().Truncate(time.Second))
	s := harness.Start(t, harness.WithClock(clock))
	old := s.AdminToken(t)
	clock.Advance(time.Minute)

	r, next := idRefresh(t, s, old)
	idWantStatus(t, r, http.StatusOK, "")
	if next.Token == old || next.Token == "" {
		t.Fatal("no new token")
	}
	_, oldClaims := idClaims(t, old)
	_, newClaims := idClaims(t, next.Token)
	if oldClaims["sid"] != newClaims["sid"] || oldClaims["jti"] == newClaims["jti"] {
		t.Fatalf("successor claims %v vs %v", newClaims, oldClaims)
	}
	if want := clock.Now().Add(time.Hour).Format(time.RFC3339); next.ExpiresAt != want {
		t.Fatalf("expiresAt = %s, want %s", next.ExpiresAt, want)
	}
	// The old token is revoked for use at once; the new one works.
	idWantStatus(t, idMe(t, s, old), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, idMe(t, s, next.Token), http.StatusOK, "")
	// Within the grace, refreshing the old token again yields the same successor.
	clock.Advance(9 * time.Second)
	r, again := idRefresh(t, s, old)
	idWantStatus(t, r, http.StatusOK, "")
	if again.Token != next.Token {
		t.Fatal("a refresh within the grace got a different successor")
	}
	// After the grace it is refused.
	clock.Advance(2 * time.Second)
	r, _ = idRefresh(t, s, old)
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestRefreshFiftyParallel(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	old := s.AdminToken(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := map[string]int{}
	statuses := map[int]int{}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, tok := idRefresh(t, s, old)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.Status]++
			if r.Status == http.StatusOK {
				tokens[tok.Token]++
			}
		}()
	}
	wg.Wait()
	if statuses[http.StatusOK] != 50 || len(tokens) != 1 {
		t.Fatalf("statuses %v, %d distinct successors; want 50×200 and exactly 1", statuses, len(tokens))
	}
	for tok := range tokens {
		idWantStatus(t, idMe(t, s, tok), http.StatusOK, "")
	}
	idWantStatus(t, idMe(t, s, old), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestRefreshRefusals(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "ops-password-long-enough"}
	}))
	tok := s.AdminToken(t)
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: refreshPath})
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("WWW-Authenticate = %q, want Basic offered too", r.Header.Get("WWW-Authenticate"))
	}
	r, _ = idRefresh(t, s, "not-a-token")
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	// The basic credential has no session to refresh: 403; a wrong one: 401.
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: refreshPath, Basic: [2]string{"ops", "ops-password-long-enough"}}), http.StatusForbidden, "ACCESS_DENIED")
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: refreshPath, Basic: [2]string{"ops", "wrong-password-here"}}), http.StatusUnauthorized, "AUTH_REQUIRED")
	// A malformed API key is judged (401), not waved through as "not a JWT".
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: refreshPath, APIKey: "m9m_sk_bogus"}), http.StatusUnauthorized, "AUTH_REQUIRED")
	// A logged-out token cannot be refreshed.
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: tok}), http.StatusNoContent, "")
	r, _ = idRefresh(t, s, tok)
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	// Logout with the basic credential: 403.
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Basic: [2]string{"ops", "ops-password-long-enough"}}), http.StatusForbidden, "ACCESS_DENIED")
}

func TestRefreshStopsAtMaxSession(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC().Truncate(time.Second)
	clock := memory.NewClock(start)
	s := harness.Start(t, harness.WithClock(clock), harness.WithConfig(func(c *config.Config) {
		c.Security.JWT.Expiration = time.Hour
		c.Security.JWT.MaxSession = 90 * time.Minute
	}))
	tok := s.AdminToken(t)
	clock.Advance(50 * time.Minute)
	r, next := idRefresh(t, s, tok)
	idWantStatus(t, r, http.StatusOK, "")
	if want := start.Add(90 * time.Minute).Format(time.RFC3339); next.ExpiresAt != want {
		t.Fatalf("successor expires %s, want the session bound %s", next.ExpiresAt, want)
	}
	clock.Set(start.Add(90*time.Minute + 10*time.Second)) // exp passed, inside the leeway
	r, _ = idRefresh(t, s, next.Token)
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestLogoutIsSeenByEveryInstanceAtOnce(t *testing.T) {
	t.Parallel()
	a := harness.Start(t)
	b := harness.Start(t, harness.SharedWith(a))
	tok := a.AdminToken(t)
	other := b.AdminToken(t)
	idWantStatus(t, idMe(t, b, tok), http.StatusOK, "")
	idWantStatus(t, a.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: tok}), http.StatusNoContent, "")
	idWantStatus(t, idMe(t, b, tok), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, idMe(t, a, tok), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, idMe(t, b, other), http.StatusOK, "") // another session lives on
	// Logging out twice: the token is already revoked.
	idWantStatus(t, b.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: tok}), http.StatusUnauthorized, "AUTH_REQUIRED")
}

type idSession struct {
	ID, IP, UserAgent          string
	CreatedAt, LastRefreshedAt string
	Current                    bool
}

func idSessions(t *testing.T, s *harness.Server, token string) []idSession {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Bearer: token})
	idWantStatus(t, r, http.StatusOK, "")
	var body struct{ Data []idSession }
	r.JSON(t, &body)
	return body.Data
}

func TestSessionsListAndEnd(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, name, pw := s.CreateUser(t, admin, "editor")
	login := func(ua string) string {
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: loginPath, Headers: map[string]string{"User-Agent": ua},
			Body: map[string]string{"username": name, "password": pw}})
		idWantStatus(t, r, http.StatusOK, "")
		var tok idToken
		r.JSON(t, &tok)
		return tok.Token
	}
	laptop := login("laptop-browser/1.0")
	phone := login("phone-app/2.0")

	list := idSessions(t, s, laptop)
	if len(list) != 2 {
		t.Fatalf("sessions = %+v", list)
	}
	var mine, theirs idSession
	for _, x := range list {
		if x.Current {
			mine = x
		} else {
			theirs = x
		}
	}
	if mine.UserAgent != "laptop-browser/1.0" || theirs.UserAgent != "phone-app/2.0" || mine.IP != "127.0.0.1" {
		t.Fatalf("sessions = %+v", list)
	}
	if _, err := time.Parse(time.RFC3339, mine.CreatedAt); err != nil || !strings.HasSuffix(mine.LastRefreshedAt, "Z") {
		t.Fatalf("times = %q %q", mine.CreatedAt, mine.LastRefreshedAt)
	}
	// Someone else's session: 403; an unknown one: 404.
	_, otherName, otherPW := s.CreateUser(t, admin, "viewer")
	stranger := s.Login(t, otherName, otherPW)
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + theirs.ID, Bearer: stranger}), http.StatusForbidden, "ACCESS_DENIED")
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/does-not-exist", Bearer: laptop}), http.StatusNotFound, "NOT_FOUND")
	idWantStatus(t, idMe(t, s, phone), http.StatusOK, "")

	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + theirs.ID, Bearer: laptop}), http.StatusNoContent, "")
	idWantStatus(t, idMe(t, s, phone), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, idMe(t, s, laptop), http.StatusOK, "")
	if list := idSessions(t, s, laptop); len(list) != 1 || list[0].ID != mine.ID {
		t.Fatalf("after ending: %+v", list)
	}
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + theirs.ID, Bearer: laptop}), http.StatusNotFound, "NOT_FOUND")
	// Without credentials: 401.
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions"}), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + mine.ID}), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	t.Parallel()
	a := harness.Start(t)
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)
	_, name, pw := a.CreateUser(t, admin, "viewer")
	mine := a.Login(t, name, pw)
	other := b.Login(t, name, pw)
	const next = "my new long passphrase 42"

	pwReq := func(token string, body any) *harness.Response {
		return a.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: token, Body: body})
	}
	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"wrong current", map[string]string{"currentPassword": "not-my-password", "newPassword": next}, "currentPassword"},
		{"weak new", map[string]string{"currentPassword": pw, "newPassword": "password1"}, "newPassword"},
		{"short new", map[string]string{"currentPassword": pw, "newPassword": "short"}, "newPassword"},
		{"missing", map[string]string{}, "currentPassword"},
		{"unknown field", map[string]any{"currentPassword": pw, "newPassword": next, "confirm": next}, "confirm"},
		{"wrong type", map[string]any{"currentPassword": pw, "newPassword": 12345678}, "newPassword"},
	} {
		r := pwReq(mine, tt.body)
		idWantStatus(t, r, http.StatusBadRequest, "INVALID_REQUEST")
		if !strings.Contains(string(r.Body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: body %s does not name %q", tt.name, r.Body, tt.field)
		}
	}
	idWantStatus(t, idMe(t, b, other), http.StatusOK, "") // nothing happened yet

	idWantStatus(t, pwReq(mine, map[string]string{"currentPassword": pw, "newPassword": next}), http.StatusNoContent, "")
	idWantStatus(t, idMe(t, a, mine), http.StatusOK, "")
	idWantStatus(t, idMe(t, b, other), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, a.Do(t, idLoginReq(name, pw)), http.StatusUnauthorized, "INVALID_CREDENTIALS")
	b.Login(t, name, next)
	idWantStatus(t, pwReq("", map[string]string{"currentPassword": next, "newPassword": pw + "x"}), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestPasswordChangeIsThrottled(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	_, name, pw := s.CreateUser(t, s.AdminToken(t), "viewer")
	tok := s.Login(t, name, pw)
	change := func(current string) *harness.Response {
		return s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: tok,
			Body: map[string]string{"currentPassword": current, "newPassword": "brand new passphrase 1"}})
	}
	for range 5 {
		idWantStatus(t, change("guessing the password"), http.StatusBadRequest, "INVALID_REQUEST")
	}
	r := change(pw) // even the right one, while throttled
	idWantStatus(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	idWantStatus(t, idMe(t, s, tok), http.StatusOK, "") // still logged in
}
