package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/test/harness"
)

// Helpers of the adversarial review tests are prefixed "rv". Every test here
// is an attack (or a strict client's expectation) that once failed or that
// the service must keep resisting.

// rvNo500 fails when r is a 5xx: hostile input is the client's fault.
func rvNo500(t *testing.T, what string, r *harness.Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s: answered %d %s", what, r.Status, rvShort(r.Body))
	}
}

// rvShort keeps failure messages readable when an answer echoes a huge body.
func rvShort(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// rvWant fails unless r has status (and code, when given).
func rvWant(t *testing.T, what string, r *harness.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.Code() != code) {
		t.Errorf("%s: answered %d %s, want %d %s", what, r.Status, rvShort(r.Body), status, code)
	}
}

// rvKey creates an API key for token and returns it.
func rvKey(t *testing.T, s *harness.Server, token string, body map[string]any) (id, key string) {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	var out struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	r.JSON(t, &out)
	return out.ID, out.Key
}

// rvWorkflow creates a workflow for token and returns its id.
func rvWorkflow(t *testing.T, s *harness.Server, token string, body map[string]any) string {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create workflow: %d %s", r.Status, r.Body)
	}
	var out struct {
		ID string `json:"id"`
	}
	r.JSON(t, &out)
	return out.ID
}

// TestReviewHostileJSON sends malformed and hostile bodies to every endpoint
// that decodes one: each must answer a 4xx envelope (DoRaw checks it), never
// a 5xx, and never accept a body it should refuse.
func TestReviewHostileJSON(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	editorID, _, _ := s.CreateUser(t, admin, "editor")
	wfID := rvWorkflow(t, s, admin, map[string]any{"name": "review target"})
	keyID, _ := rvKey(t, s, admin, map[string]any{"name": "review target"})

	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	deepNodes := `{"name":"deep","nodes":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}`
	bodies := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"whitespace", "   \n"},
		{"null", "null"},
		{"array", "[]"},
		{"string", `"x"`},
		{"number", "1"},
		{"truncated", `{"name":`},
		{"trailing garbage", `{} {}`},
		{"trailing comma", `{"name":"a",}`},
		{"huge number", `{"name":1e999999999}`},
		{"huge integer", `{"graceSeconds":` + strings.Repeat("9", 400) + `}`},
		{"negative huge", `{"graceSeconds":-99999999999999999999}`},
		{"float for int", `{"graceSeconds":1.5}`},
		{"deep nesting", deep},
		{"deep nesting in nodes", deepNodes},
		{"NUL in string", `{"name":"a\u0000b","username":"a\u0000b","password":"a\u0000b"}`},
		{"raw NUL byte", "{\"name\":\"a\x00b\"}"},
		{"invalid UTF-8", "{\"name\":\"\xff\xfe\",\"username\":\"\xff\",\"password\":\"\xff\"}"},
		{"lone surrogate", `{"name":"\ud800","username":"\ud800","password":"\udc00"}`},
		{"duplicate keys", `{"name":"a","name":"b","username":"a","username":"b"}`},
		{"wrong types", `{"name":1,"username":true,"password":[],"role":{},"active":"yes","nodes":"x","scopes":"all","disabled":"no","graceSeconds":"10"}`},
		{"unknown field", `{"isAdmin":true}`},
		{"proto pollution", `{"__proto__":{"role":"admin"}}`},
		{"very long string", `{"name":"` + strings.Repeat("a", 200000) + `"}`},
		{"BOM", "\xef\xbb\xbf{}"},
	}
	endpoints := []struct{ method, path, bearer string }{
		{http.MethodPost, "/api/v1/auth/login", ""},
		{http.MethodPost, "/api/v1/auth/password", admin},
		{http.MethodPost, "/api/v1/api-keys", admin},
		{http.MethodPost, "/api/v1/api-keys/" + keyID + "/rotate", admin},
		{http.MethodPost, "/api/v1/workflows", admin},
		{http.MethodPut, "/api/v1/workflows/" + wfID, admin},
		{http.MethodPost, "/api/v1/users", admin},
		{http.MethodPatch, "/api/v1/users/" + editorID, admin},
	}
	for _, ep := range endpoints {
		for _, b := range bodies {
			what := ep.method + " " + ep.path + " with " + b.name
			r := s.DoRaw(t, harness.Req{Method: ep.method, Path: ep.path, Bearer: ep.bearer, Body: b.body})
			rvNo500(t, what, r)
			// Deeply nested nodes are valid JSON that Postgres stores: accepted.
			// A rotation's body is optional: a blank one is a plain rotation.
			blankRotate := strings.HasSuffix(ep.path, "/rotate") && strings.TrimSpace(b.body) == ""
			if r.Status < 400 && b.name != "deep nesting in nodes" && !blankRotate {
				t.Errorf("%s: accepted with %d %s", what, r.Status, rvShort(r.Body))
			}
		}
	}
	// The admin is still who they were: no hostile body changed anything.
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: admin}); r.Status != http.StatusOK {
		t.Fatalf("admin token after hostile bodies: %d %s", r.Status, r.Body)
	}
}

// TestReviewHostilePathsAndQueries sends odd ids and query parameters:
// NULs, invalid UTF-8, very long ids, negative and non-numeric limits,
// garbage cursors. None may be a 5xx.
func TestReviewHostilePathsAndQueries(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	wfID := rvWorkflow(t, s, admin, map[string]any{"name": "review paths"})
	long := strings.Repeat("a", 5000)
	ids := []string{"%00", "a%00b", "%FF", "%C0%80", "%ED%A0%80", long, "..", "%2E%2E", "%20", "'%20OR%201=1--", "%25"}
	for _, id := range ids {
		for _, rq := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/users/" + id},
			{http.MethodPatch, "/api/v1/users/" + id},
			{http.MethodDelete, "/api/v1/users/" + id},
			{http.MethodGet, "/api/v1/workflows/" + id},
			{http.MethodPut, "/api/v1/workflows/" + id},
			{http.MethodDelete, "/api/v1/workflows/" + id},
			{http.MethodGet, "/api/v1/workflows/" + id + "/executions"},
			{http.MethodDelete, "/api/v1/api-keys/" + id},
			{http.MethodPost, "/api/v1/api-keys/" + id + "/rotate"},
			{http.MethodDelete, "/api/v1/auth/sessions/" + id},
			{http.MethodPost, "/webhook/" + id},
		} {
			var body any
			switch rq.method {
			case http.MethodPatch:
				body = `{"disabled":false}`
			case http.MethodPut:
				body = `{"name":"x"}`
			case http.MethodPost:
				body = `{}`
			}
			r := s.DoRaw(t, harness.Req{Method: rq.method, Path: rq.path, Bearer: admin, Body: body})
			what := rq.method + " " + rq.path
			if len(what) > 120 {
				what = what[:120] + "..."
			}
			rvNo500(t, what, r)
			if r.Status < 400 {
				t.Errorf("%s: answered %d %s", what, r.Status, rvShort(r.Body))
			}
		}
	}
	odd := []string{"limit=-1", "limit=0", "limit=abc", "limit=99999999999999999999", "limit=1e3", "limit=%00",
		"cursor=garbage", "cursor=%00", "cursor=%FF", "cursor=" + long[:400], "cursor=eyJ9", "cursor=" + url.QueryEscape(`{"id":"x","t":"y"}`),
		"userId=%00", "userId=%FF", "userId=" + long, "actor=%00", "actor=%FF", "action=%00", "from=garbage", "to=%00"}
	for _, q := range odd {
		for _, p := range []string{"/api/v1/users", "/api/v1/workflows", "/api/v1/workflows/" + wfID + "/executions", "/api/v1/api-keys", "/api/v1/audit-events"} {
			r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: p + "?" + q, Bearer: admin})
			what := "GET " + p + "?" + q
			if len(what) > 120 {
				what = what[:120] + "..."
			}
			rvNo500(t, what, r)
		}
	}
}

// TestReviewMixedCredentials: contract §3 — a bad credential, or one of a
// disabled method, is 401 even if another credential on the same request
// would have worked. Presenting two credentials must not let a bad one be
// ignored.
func TestReviewMixedCredentials(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, key := rvKey(t, s, admin, map[string]any{"name": "mixed"})
	me := "/api/v1/auth/me"
	tests := []struct {
		name string
		req  harness.Req
	}{
		{"basic (disabled) + good key", harness.Req{Basic: [2]string{"admin", s.AdminPassword()}, APIKey: key}},
		{"unknown scheme + good key", harness.Req{Headers: map[string]string{"Authorization": "Token abc"}, APIKey: key}},
		{"empty authorization + good key", harness.Req{Headers: map[string]string{"Authorization": " "}, APIKey: key}},
		{"good bearer + empty key", harness.Req{Headers: map[string]string{"Authorization": "Bearer " + admin, "X-API-Key": ""}}},
		{"empty authorization alone", harness.Req{Headers: map[string]string{"Authorization": ""}}},
		{"good bearer + bad key", harness.Req{Bearer: admin, APIKey: "m9m_sk_bogus"}},
		{"bad bearer + good key", harness.Req{Bearer: "not.a.jwt", APIKey: key}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Method, tt.req.Path = http.MethodGet, me
			r := s.DoRaw(t, tt.req)
			rvWant(t, tt.name, r, http.StatusUnauthorized, "AUTH_REQUIRED")
			if r.Status == http.StatusUnauthorized && !strings.Contains(r.Header.Get("WWW-Authenticate"), `Bearer realm="m9m"`) {
				t.Errorf("401 without the Bearer challenge: %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// Each credential alone still works.
	rvWant(t, "key alone", s.Do(t, harness.Req{Method: http.MethodGet, Path: me, APIKey: key}), http.StatusOK, "")
	rvWant(t, "bearer alone", s.Do(t, harness.Req{Method: http.MethodGet, Path: me, Bearer: admin}), http.StatusOK, "")
}

// TestReviewAuthorizationMatrix tries every escalation the roles and scopes
// must prevent.
func TestReviewAuthorizationMatrix(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	adminMe := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: admin}).Map(t)
	adminID := adminMe["user"].(map[string]any)["id"].(string)
	editorID, en, ep := s.CreateUser(t, admin, "editor")
	editor := s.Login(t, en, ep)
	viewerID, vn, vp := s.CreateUser(t, admin, "viewer")
	viewer := s.Login(t, vn, vp)
	adminWF := rvWorkflow(t, s, admin, map[string]any{"name": "admin's"})
	editorWF := rvWorkflow(t, s, editor, map[string]any{"name": "editor's"})
	adminKeyID, _ := rvKey(t, s, admin, map[string]any{"name": "admin key"})
	_, viewerKey := rvKey(t, s, viewer, map[string]any{"name": "viewer key"})
	_, readKey := rvKey(t, s, editor, map[string]any{"name": "read only", "scopes": []string{"workflows:read"}})

	wf := map[string]any{"name": "hijacked"}
	tests := []struct {
		name   string
		req    harness.Req
		status int
		code   string
	}{
		{"anonymous workflows", harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows"}, 401, "AUTH_REQUIRED"},
		{"editor writes admin's workflow", harness.Req{Method: http.MethodPut, Path: "/api/v1/workflows/" + adminWF, Bearer: editor, Body: wf}, 403, "ACCESS_DENIED"},
		{"editor deletes admin's workflow", harness.Req{Method: http.MethodDelete, Path: "/api/v1/workflows/" + adminWF, Bearer: editor}, 403, "ACCESS_DENIED"},
		{"viewer creates workflow", harness.Req{Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: viewer, Body: wf}, 403, "ACCESS_DENIED"},
		{"viewer writes editor's workflow", harness.Req{Method: http.MethodPut, Path: "/api/v1/workflows/" + editorWF, Bearer: viewer, Body: wf}, 403, "ACCESS_DENIED"},
		{"viewer key mints key", harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", APIKey: viewerKey, Body: map[string]any{"name": "more"}}, 403, "ACCESS_DENIED"},
		{"viewer key changes password", harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", APIKey: viewerKey, Body: map[string]any{"currentPassword": vp, "newPassword": "another-pass-123456"}}, 403, "ACCESS_DENIED"},
		{"read-only key writes own workflow", harness.Req{Method: http.MethodPut, Path: "/api/v1/workflows/" + editorWF, APIKey: readKey, Body: wf}, 403, "ACCESS_DENIED"},
		{"read-only key lists keys", harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", APIKey: readKey}, 403, "ACCESS_DENIED"},
		{"editor lists users", harness.Req{Method: http.MethodGet, Path: "/api/v1/users", Bearer: editor}, 403, "ACCESS_DENIED"},
		{"editor reads audit", harness.Req{Method: http.MethodGet, Path: "/api/v1/audit-events", Bearer: editor}, 403, "ACCESS_DENIED"},
		{"viewer promotes self", harness.Req{Method: http.MethodPatch, Path: "/api/v1/users/" + viewerID, Bearer: viewer, Body: map[string]any{"role": "admin"}}, 403, "ACCESS_DENIED"},
		{"editor lists admin's keys", harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys?userId=" + adminID, Bearer: editor}, 403, "ACCESS_DENIED"},
		{"editor revokes admin's key", harness.Req{Method: http.MethodDelete, Path: "/api/v1/api-keys/" + adminKeyID, Bearer: editor}, 403, "ACCESS_DENIED"},
		{"editor rotates admin's key", harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys/" + adminKeyID + "/rotate", Bearer: editor}, 403, "ACCESS_DENIED"},
		{"viewer key with write scope", harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: viewer, Body: map[string]any{"name": "up", "scopes": []string{"workflows:write"}}}, 400, "INVALID_REQUEST"},
		{"editor key with users scope", harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: editor, Body: map[string]any{"name": "up", "scopes": []string{"users:manage"}}}, 400, "INVALID_REQUEST"},
		{"key with unknown scope", harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: editor, Body: map[string]any{"name": "up", "scopes": []string{"*"}}}, 400, "INVALID_REQUEST"},
		{"key expiring in the past", harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: editor, Body: map[string]any{"name": "old", "expiresAt": "2001-01-01T00:00:00Z"}}, 400, "INVALID_REQUEST"},
		{"admin demotes self", harness.Req{Method: http.MethodPatch, Path: "/api/v1/users/" + adminID, Bearer: admin, Body: map[string]any{"role": "viewer"}}, 409, "CONFLICT"},
		{"admin deletes self", harness.Req{Method: http.MethodDelete, Path: "/api/v1/users/" + adminID, Bearer: admin}, 409, "CONFLICT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, tt.req)
			rvWant(t, tt.name, r, tt.status, tt.code)
		})
	}
	// No route enumeration: an unknown /api/v1 path is 401 to strangers.
	rvWant(t, "anonymous unknown api route", s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/nope"}), 401, "AUTH_REQUIRED")
	rvWant(t, "anonymous wrong method", s.DoRaw(t, harness.Req{Method: http.MethodPatch, Path: "/api/v1/workflows", Body: `{}`}), 401, "AUTH_REQUIRED")
	// Nothing above changed the admin's workflow or the editor's role.
	got := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows/" + adminWF, Bearer: admin}).Map(t)
	if got["name"] != "admin's" {
		t.Errorf("admin's workflow changed: %v", got)
	}
	u := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/users/" + editorID, Bearer: admin}).Map(t)
	if u["role"] != "editor" {
		t.Errorf("editor's role changed: %v", u)
	}
}

// TestReviewRevokedCredentials: a logged-out token, a revoked key and a
// disabled user's credentials are refused at once.
func TestReviewRevokedCredentials(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	uid, un, up := s.CreateUser(t, admin, "editor")
	tok := s.Login(t, un, up)
	keyID, key := rvKey(t, s, tok, map[string]any{"name": "to revoke"})
	_, key2 := rvKey(t, s, tok, map[string]any{"name": "owner disabled"})
	me := "/api/v1/auth/me"

	rvWant(t, "revoke key", s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/api-keys/" + keyID, Bearer: tok}), http.StatusNoContent, "")
	rvWant(t, "revoked key", s.Do(t, harness.Req{Method: http.MethodGet, Path: me, APIKey: key}), http.StatusUnauthorized, "AUTH_REQUIRED")

	rvWant(t, "disable user", s.Do(t, harness.Req{Method: http.MethodPatch, Path: "/api/v1/users/" + uid, Bearer: admin, Body: map[string]any{"disabled": true}}), http.StatusOK, "")
	rvWant(t, "disabled user's token", s.Do(t, harness.Req{Method: http.MethodGet, Path: me, Bearer: tok}), http.StatusUnauthorized, "AUTH_REQUIRED")
	rvWant(t, "disabled user's key", s.Do(t, harness.Req{Method: http.MethodGet, Path: me, APIKey: key2}), http.StatusUnauthorized, "AUTH_REQUIRED")
	rvWant(t, "disabled user's refresh", s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/refresh", Bearer: tok}), http.StatusUnauthorized, "AUTH_REQUIRED")
	rvWant(t, "disabled user's login", s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: map[string]string{"username": un, "password": up}}), http.StatusUnauthorized, "INVALID_CREDENTIALS")

	// A forged token (alg none) and a token signed with another secret.
	parts := strings.Split(admin, ".")
	none := "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0." + parts[1] + "."
	for name, bad := range map[string]string{"alg none": none, "bad signature": parts[0] + "." + parts[1] + ".AAAA", "no signature": parts[0] + "." + parts[1]} {
		r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: me, Bearer: bad})
		rvWant(t, name, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	}
}

// TestReviewNoSecretsInLogsOrAnswers runs a full flow with every kind of
// secret and asserts none of them appears in the logs, and none appears in
// an answer after the one that created it.
func TestReviewNoSecretsInLogsOrAnswers(t *testing.T) {
	w := whStart(t)
	s := w.Server
	uid, un, up := s.CreateUser(t, w.admin, "editor")
	tok := s.Login(t, un, up)
	keyID, key := rvKey(t, s, tok, map[string]any{"name": "leak check"})
	var answers []string
	keep := func(r *harness.Response) *harness.Response { answers = append(answers, string(r.Body)); return r }

	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", APIKey: key}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows", APIKey: key}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", Bearer: tok}))
	// A wrong key, a wrong password and a wrong bearer are not logged either.
	wrongPass := "wrong-" + up
	keep(s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", APIKey: key[:len(key)-1] + "x"}))
	keep(s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: map[string]string{"username": un, "password": wrongPass}}))
	keep(s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me?token=" + url.QueryEscape(tok) + "&api_key=" + key}))

	// The hmac webhook: triggered good and bad.
	at := w.clock.Now()
	keep(w.deliver(t, "hmac", whBody, w.signed(at, whBody), [2]string{}))
	keep(w.deliver(t, "hmac", whBody, map[string]string{"X-M9M-Timestamp": strconv.FormatInt(at.Unix(), 10), "X-M9M-Signature": whSign(whHMACSecret+"x", strconv.FormatInt(at.Unix(), 10), whBody)}, [2]string{}))
	keep(w.deliver(t, "header", whBody, map[string]string{"X-Sender-Id": whHeaderSecret}, [2]string{}))
	keep(w.deliver(t, "basic", whBody, nil, [2]string{"hook-user", whBasicSecret}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows/" + w.ids["hmac"], Bearer: w.admin}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows/" + w.ids["header"] + "/executions", Bearer: w.admin}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows/" + w.ids["basic"] + "/executions", Bearer: w.admin}))

	// Rotate the key, change the password, reset another's password.
	rot := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys/" + keyID + "/rotate", Bearer: tok})
	if rot.Status != http.StatusCreated {
		t.Fatalf("rotate: %d %s", rot.Status, rot.Body)
	}
	var rotated struct {
		Key string `json:"key"`
	}
	rot.JSON(t, &rotated)
	newPass := "new-pass-" + strings.Repeat("z", 4) + strconv.FormatInt(time.Now().UnixNano(), 36)
	keep(s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: tok, Body: map[string]string{"currentPassword": up, "newPassword": newPass}}))
	tok2 := s.Login(t, un, newPass)
	resetPass := "reset-pass-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	keep(s.Do(t, harness.Req{Method: http.MethodPatch, Path: "/api/v1/users/" + uid, Bearer: w.admin, Body: map[string]any{"password": resetPass}}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/audit-events?limit=100", Bearer: w.admin}))
	keep(s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", Bearer: s.Login(t, un, resetPass)}))

	secrets := []string{up, wrongPass, newPass, resetPass, tok, tok2, key, rotated.Key, key[7:], rotated.Key[7:],
		whHMACSecret, whHeaderSecret, whBasicSecret, s.Config.Security.JWT.Secret, s.AdminPassword()}
	if s.Config.Security.WebhookEncryptionKey != "" {
		secrets = append(secrets, s.Config.Security.WebhookEncryptionKey)
	}
	if u, err := url.Parse(s.Config.Database.URL); err == nil {
		if p, ok := u.User.Password(); ok && len(p) > 3 {
			secrets = append(secrets, p)
		}
	}
	time.Sleep(100 * time.Millisecond) // let the async audit writer and access log catch up
	if found := harness.ContainsAny(s.Logs(), secrets...); len(found) > 0 {
		t.Errorf("secrets in the logs: %d of them (first starts %q)", len(found), found[0][:4])
	}
	if found := harness.ContainsAny(strings.Join(answers, "\n"), secrets...); len(found) > 0 {
		t.Errorf("secrets in API answers: %d of them (first starts %q)", len(found), found[0][:4])
	}
}

// TestReviewWebhookHeaderSecretNeverLogged: a header-auth webhook's secret
// travels in a header of the owner's choosing. Headers whose values the
// access log shows (User-Agent, X-Request-ID, ...) must not be usable for
// it, or every delivery writes the secret to the logs.
func TestReviewWebhookHeaderSecretNeverLogged(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i, name := range []string{"User-Agent", "X-Request-ID", "Accept", "Accept-Encoding"} {
		secret := "hdrsecret" + strconv.Itoa(i) + "x" + suffix
		path := "review/" + suffix + "/" + strconv.Itoa(i)
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: admin, Body: map[string]any{
			"name": "hdr " + name, "active": true,
			"webhook": map[string]any{"path": path, "auth": map[string]any{"type": "header", "name": name, "value": secret}},
		}})
		if r.Status == http.StatusBadRequest {
			continue // refused: the secret can never travel in a logged header
		}
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s webhook: %d %s", name, r.Status, r.Body)
		}
		d := s.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + path, Body: `{"a":1}`, Headers: map[string]string{name: secret}})
		if d.Status != http.StatusAccepted {
			t.Fatalf("deliver with %s: %d %s", name, d.Status, d.Body)
		}
		if strings.Contains(s.Logs(), secret) {
			t.Errorf("webhook secret sent in %s is in the logs", name)
		}
		if strings.Contains(d.Header.Get("X-Request-ID"), secret) {
			t.Errorf("webhook secret sent in %s is echoed in X-Request-ID", name)
		}
	}
}

// TestReviewContractShapes pins answer shapes a strict client relies on.
func TestReviewContractShapes(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, key := rvKey(t, s, admin, map[string]any{"name": "shape"})

	list := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", Bearer: admin})
	var lb map[string]json.RawMessage
	list.JSON(t, &lb)
	if _, ok := lb["nextCursor"]; !ok || lb["data"] == nil {
		t.Errorf("api-keys list shape: %s", list.Body)
	}
	if strings.Contains(string(list.Body), key) || strings.Contains(string(list.Body), akDigest(key)) || strings.Contains(string(list.Body), `"key"`) {
		t.Errorf("api-keys list shows the key or its digest: %s", list.Body)
	}

	me := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", APIKey: key}).Map(t)
	if me["authMethod"] != "api_key" || me["user"] == nil || me["permissions"] == nil {
		t.Errorf("/auth/me shape: %v", me)
	}
	ready := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"}).Map(t)
	checks, _ := ready["checks"].(map[string]any)
	if ready["status"] != "ready" || checks["postgres"] != "ok" || checks["redis"] != "ok" {
		t.Errorf("/ready shape: %v", ready)
	}
	// 401 and 405 and 404 envelopes and headers.
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows"})
	rvWant(t, "anonymous", r, http.StatusUnauthorized, "AUTH_REQUIRED")
	if r.Header.Get("WWW-Authenticate") != `Bearer realm="m9m"` {
		t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	for _, m := range []struct{ method, path, allow string }{
		{http.MethodPatch, "/api/v1/workflows", "GET, POST"},
		{http.MethodPost, "/api/v1/workflows/abc", "GET, PUT, DELETE"},
		{http.MethodPut, "/api/v1/api-keys", "GET, POST"},
		{http.MethodGet, "/api/v1/auth/login", "POST"},
		{http.MethodPost, "/api/v1/audit-events", "GET"},
	} {
		r := s.DoRaw(t, harness.Req{Method: m.method, Path: m.path, Bearer: admin, Body: `{}`})
		rvWant(t, m.method+" "+m.path, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		if got := r.Header.Get("Allow"); got != m.allow {
			t.Errorf("%s %s: Allow = %q, want %q", m.method, m.path, got, m.allow)
		}
	}
	rvWant(t, "unknown route", s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/nope", Bearer: admin}), http.StatusNotFound, "NOT_FOUND")
	rvWant(t, "disabled basic", s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Basic: [2]string{"admin", s.AdminPassword()}}), http.StatusUnauthorized, "AUTH_REQUIRED")
	rvWant(t, "key in query", s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me?api_key=" + key}), http.StatusUnauthorized, "AUTH_REQUIRED")
}
