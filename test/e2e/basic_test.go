package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// Helpers of the basic-auth tests are prefixed "ba".

const (
	baUser = "ops-basic"
	baPass = "basic-auth-pass-0123456789"
)

// baEnabled turns basic auth on with the test credential.
func baEnabled(c *config.Config) {
	c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: baUser, Password: baPass}
}

func baMe(t *testing.T, s *harness.Server, user, pass string) *harness.Response {
	t.Helper()
	return s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Basic: [2]string{user, pass}})
}

func TestBasicAuthSuccessAndFailure(t *testing.T) {
	s := harness.Start(t, harness.WithConfig(baEnabled))

	r := baMe(t, s, baUser, baPass)
	akWantStatus(t, r, http.StatusOK, "")
	me := r.Map(t)
	if me["authMethod"] != "basic" {
		t.Fatalf("authMethod = %v", me["authMethod"])
	}
	var perms []string
	for _, p := range me["permissions"].([]any) {
		perms = append(perms, p.(string))
	}
	if !slices.Equal(perms, []string{"workflows:read", "workflows:write", "api_keys:manage", "users:manage", "audit:read"}) {
		t.Fatalf("permissions = %v, want all (admin)", perms)
	}
	if u := me["user"].(map[string]any); u["username"] != baUser || u["role"] != "admin" {
		t.Fatalf("user = %v", u)
	}
	// Acting as admin: the admin API answers.
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/users", Basic: [2]string{baUser, baPass}}), http.StatusOK, "")

	for name, pair := range map[string][2]string{
		"wrong password": {baUser, baPass + "x"},
		"wrong username": {"admin", baPass},
		"short password": {baUser, baPass[:12]},
		"empty password": {baUser, ""},
	} {
		r := baMe(t, s, pair[0], pair[1])
		if r.Status != http.StatusUnauthorized || r.Code() != "AUTH_REQUIRED" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
		if got := r.Header.Get("WWW-Authenticate"); !strings.Contains(got, `Bearer realm="m9m"`) || !strings.Contains(got, `Basic realm="m9m"`) {
			t.Errorf("%s: WWW-Authenticate = %q, want Bearer and Basic", name, got)
		}
	}
	// Any 401 offers Basic while it is enabled, whatever was presented.
	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me"})
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `Basic realm="m9m"`) {
		t.Fatalf("401 without credentials: WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	// A malformed Basic header is 401 too, not a fall-through.
	r = s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Headers: map[string]string{"Authorization": "Basic !!!"}})
	akWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")

	if leaks := harness.ContainsAny(s.Logs(), baPass); len(leaks) > 0 {
		t.Fatal("the logs contain the basic-auth password")
	}
}

func TestBasicAuthDisabledByDefault(t *testing.T) {
	s := harness.Start(t)
	if s.Config.Security.BasicAuth.Enabled {
		t.Fatal("basic auth is enabled by default")
	}
	// Even the configured bootstrap admin's own password does not work as
	// Basic: the method is off.
	r := baMe(t, s, harness.AdminUsername, s.AdminPassword())
	akWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="m9m"` {
		t.Fatalf("WWW-Authenticate = %q, want only the Bearer challenge", got)
	}
}

func TestBasicAuthFailuresAreThrottledAndAudited(t *testing.T) {
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		baEnabled(c)
		c.Security.LoginThrottle = config.LoginThrottleConfig{Enabled: true, MaxFailuresPerUser: 3, MaxFailuresPerIP: 50, Window: time.Minute}
		c.Audit.FlushInterval = 20 * time.Millisecond
	}))
	admin := s.AdminToken(t)
	// Only this test's events: the package's tests share one database, and
	// other tests' basic-auth failures are in it too.
	since := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	for i := range 3 {
		akWantStatus(t, baMe(t, s, baUser, "wrong-guess-"+string(rune('a'+i))), http.StatusUnauthorized, "AUTH_REQUIRED")
	}
	r := baMe(t, s, baUser, "wrong-guess-d")
	akWantStatus(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// While throttled, even the right password is refused.
	akWantStatus(t, baMe(t, s, baUser, baPass), http.StatusTooManyRequests, "RATE_LIMITED")

	// The failures are in the audit log, without the guessed passwords.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/audit-events?action=auth.basic_failure&from=" + since, Bearer: admin})
		akWantStatus(t, r, http.StatusOK, "")
		var page struct {
			Data []struct {
				ActorName *string `json:"actorName"`
				IP        *string `json:"ip"`
				Outcome   string  `json:"outcome"`
			} `json:"data"`
		}
		r.JSON(t, &page)
		if len(page.Data) >= 4 {
			e := page.Data[0]
			if e.ActorName == nil || *e.ActorName != baUser || e.Outcome != "failure" || e.IP == nil || *e.IP == "" {
				t.Fatalf("audit event = %+v", e)
			}
			if strings.Contains(string(r.Body), "wrong-guess") || strings.Contains(string(r.Body), baPass) {
				t.Fatal("the audit log contains a password")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d basic-auth failures audited, want 4", len(page.Data))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBasicAuthKeyOwnership(t *testing.T) {
	s := harness.Start(t, harness.WithConfig(baEnabled))
	basic := [2]string{baUser, baPass}

	// No user bears the basic username: the caller acts as admin but owns
	// nothing, so creating a key is refused with a clear message.
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Basic: basic, Body: map[string]any{"name": "ci"}})
	akWantStatus(t, r, http.StatusForbidden, "ACCESS_DENIED")
	if !strings.Contains(r.Map(t)["message"].(string), "basic") {
		t.Fatalf("message does not explain why: %s", r.Body)
	}

	// Once a user of that name exists, keys created over basic auth are
	// that user's, within that user's role.
	admin := s.AdminToken(t)
	r = s.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/users", Bearer: admin,
		Body: map[string]string{"username": baUser, "password": "owner-password-123", "role": "viewer"},
	})
	akWantStatus(t, r, http.StatusCreated, "")
	ownerID := r.Map(t)["id"].(string)
	r = s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Basic: basic, Body: map[string]any{"name": "ci"}})
	akWantStatus(t, r, http.StatusCreated, "")
	var k akIssued
	r.JSON(t, &k)
	if !slices.Equal(k.Scopes, []string{"workflows:read", "api_keys:manage"}) {
		t.Fatalf("scopes = %v, want the viewer's", k.Scopes)
	}
	list := akListOf(t, s, harness.Req{Path: akPath + "?userId=" + ownerID, Bearer: admin})
	if len(list.Data) != 1 || list.Data[0].ID != k.ID {
		t.Fatalf("owner's keys = %+v", list)
	}
	me := akMe(t, s, k.Key).Map(t)
	if me["user"].(map[string]any)["id"] != ownerID {
		t.Fatalf("key acts for %v, want %s", me["user"], ownerID)
	}
}
