package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/test/harness"
)

// ckLogin starts a cookie session as username and returns the cookie.
func ckLogin(t *testing.T, s *harness.Server, username, password string) *http.Cookie {
	t.Helper()
	r := s.Do(t, harness.Req{
		Method: http.MethodPost, Path: loginPath,
		Body:    map[string]string{"username": username, "password": password, "session": "cookie"},
		Headers: map[string]string{"Sec-Fetch-Site": "same-origin"},
	})
	if r.Status != http.StatusOK {
		t.Fatalf("cookie login: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), `"token"`) {
		t.Fatalf("cookie login answered the token in the body: %s", r.Body)
	}
	ck := ckSessionCookie(t, r)
	if ck == nil || ck.Value == "" {
		t.Fatalf("cookie login set no session cookie: %v", r.Header.Values("Set-Cookie"))
	}
	return ck
}

// ckSessionCookie returns the answer's session cookie, checking the
// attributes every Set-Cookie of it must carry (contract §4a).
func ckSessionCookie(t *testing.T, r *harness.Response) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil || ck.Name != httpapi.SessionCookieName {
			continue
		}
		if found != nil {
			t.Fatalf("two session cookies set: %v", r.Header.Values("Set-Cookie"))
		}
		if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" {
			t.Fatalf("session cookie attributes wrong: %q", line)
		}
		if len(line) >= 4096 {
			t.Fatalf("session cookie is %d bytes, want < 4 KiB", len(line))
		}
		found = ck
	}
	return found
}

// ckStart starts a server with a user of role signed in by cookie.
func ckStart(t *testing.T, role string) (s *harness.Server, admin, name, pw string, ck *http.Cookie) {
	t.Helper()
	s = harness.Start(t)
	admin = s.AdminToken(t)
	_, name, pw = s.CreateUser(t, admin, role)
	return s, admin, name, pw, ckLogin(t, s, name, pw)
}

func ckHeaders(ck *http.Cookie, extra ...string) map[string]string {
	h := map[string]string{"Cookie": ck.Name + "=" + ck.Value}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func ckMe(t *testing.T, s *harness.Server, ck *http.Cookie) *harness.Response {
	t.Helper()
	return s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Headers: ckHeaders(ck)})
}

func ckKeyCount(t *testing.T, s *harness.Server, bearer string) int {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", Bearer: bearer})
	if r.Status != http.StatusOK {
		t.Fatalf("list keys: %d %s", r.Status, r.Body)
	}
	var out struct {
		Data []struct{ ID string } `json:"data"`
	}
	r.JSON(t, &out)
	return len(out.Data)
}

// TestCookieSessionIsASession: a cookie login gets a session that is used
// like its JWT (authMethod "session"), and a header always wins over the
// cookie.
func TestCookieSessionIsASession(t *testing.T) {
	t.Parallel()
	s, admin, _, _, ck := ckStart(t, "editor")
	if ck.MaxAge <= 0 {
		t.Fatalf("session cookie Max-Age = %d, want the token lifetime", ck.MaxAge)
	}

	r := ckMe(t, s, ck)
	if r.Status != http.StatusOK {
		t.Fatalf("me with cookie: %d %s", r.Status, r.Body)
	}
	me := r.Map(t)
	if me["authMethod"] != "session" || me["expiresAt"] == nil {
		t.Fatalf("me with cookie = %s, want authMethod session and expiresAt", r.Body)
	}
	// Sessions: the cookie's own session is the current one.
	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Headers: ckHeaders(ck)})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"current":true`) {
		t.Fatalf("sessions with cookie: %d %s", r.Status, r.Body)
	}
	// A header is judged alone: a bad bearer with a good cookie is 401, an
	// admin bearer with the editor's cookie acts as the admin.
	r = s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: "not.a.jwt", Headers: ckHeaders(ck)})
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("bad bearer + good cookie: %d %s, want 401", r.Status, r.Body)
	}
	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: admin, Headers: ckHeaders(ck)})
	if m := r.Map(t); r.Status != http.StatusOK || m["authMethod"] != "jwt" {
		t.Fatalf("admin bearer + editor cookie: %d %s, want the admin's jwt", r.Status, r.Body)
	}
	// Malformed or doubled cookies are a 401, not a fall-through.
	for _, bad := range []string{
		httpapi.SessionCookieName + "=",
		httpapi.SessionCookieName + "=" + ck.Value + "; " + httpapi.SessionCookieName + "=" + ck.Value,
		httpapi.SessionCookieName + "=a b",
	} {
		r = s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Headers: map[string]string{"Cookie": bad}})
		if r.Status != http.StatusUnauthorized {
			t.Errorf("cookie %q: %d %s, want 401", bad, r.Status, r.Body)
		}
	}
	// Other cookies of the site are ignored.
	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Headers: map[string]string{"Cookie": "theme=dark; " + ck.Name + "=" + ck.Value}})
	if r.Status != http.StatusOK {
		t.Fatalf("cookie among others: %d %s", r.Status, r.Body)
	}
}

// TestCookieCSRF: every unsafe request authenticated by the cookie passes
// CrossOriginProtection and must be JSON; refused → 403, nothing done.
// Bearer clients are unaffected by the same headers.
func TestCookieCSRF(t *testing.T) {
	t.Parallel()
	s, _, name, pw, ck := ckStart(t, "editor")
	bearer := s.Login(t, name, pw)
	host := strings.TrimPrefix(s.URL, "http://")
	otherPort := "http://" + strings.Split(host, ":")[0] + ":1"
	body := map[string]string{"name": "csrf probe"}

	refused := []struct {
		name    string
		headers []string
	}{
		{"same-site page (another port)", []string{"Sec-Fetch-Site", "same-site", "Origin", otherPort}},
		{"cross-site page", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example"}},
		{"Origin of another port, no fetch metadata", []string{"Origin", otherPort}},
		{"Origin of another host, no fetch metadata", []string{"Origin", "http://localhost.evil.example"}},
		{"same-origin but a form's content type", []string{"Sec-Fetch-Site", "same-origin", "Content-Type", "text/plain"}},
		{"same-origin but urlencoded", []string{"Sec-Fetch-Site", "same-origin", "Content-Type", "application/x-www-form-urlencoded"}},
	}
	for _, tc := range refused {
		r := s.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Body: body, Headers: ckHeaders(ck, tc.headers...)})
		if r.Status != http.StatusForbidden || r.Code() != "ACCESS_DENIED" {
			t.Errorf("%s: %d %s, want 403 ACCESS_DENIED", tc.name, r.Status, r.Body)
		}
	}
	if n := ckKeyCount(t, s, bearer); n != 0 {
		t.Fatalf("refused requests created %d keys", n)
	}
	// Refused logout and session end leave the session alive.
	for _, req := range []harness.Req{
		{Method: http.MethodPost, Path: "/api/v1/auth/logout", Headers: ckHeaders(ck, "Sec-Fetch-Site", "same-site", "Content-Type", "application/json")},
		{Method: http.MethodPost, Path: refreshPath, Headers: ckHeaders(ck, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json")},
		{Method: http.MethodPost, Path: "/api/v1/auth/password", Body: map[string]string{"currentPassword": pw, "newPassword": "n3w-" + pw}, Headers: ckHeaders(ck, "Origin", otherPort)},
	} {
		if r := s.DoRaw(t, req); r.Status != http.StatusForbidden {
			t.Errorf("%s %s cross-origin: %d %s, want 403", req.Method, req.Path, r.Status, r.Body)
		}
	}
	if r := ckMe(t, s, ck); r.Status != http.StatusOK {
		t.Fatalf("session after refused requests: %d %s", r.Status, r.Body)
	}

	allowed := []struct {
		name    string
		headers []string
	}{
		{"same-origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", s.URL}},
		{"user-initiated (none)", []string{"Sec-Fetch-Site", "none"}},
		{"Origin equals Host, no fetch metadata", []string{"Origin", s.URL}},
		// Neither Sec-Fetch-Site nor Origin: no browser sends an unsafe
		// request like that, so it is a non-browser client holding the
		// cookie value (curl, a script); allowed, as Go's check decides.
		{"neither header (non-browser client)", nil},
	}
	for i, tc := range allowed {
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Body: body, Headers: ckHeaders(ck, tc.headers...)})
		if r.Status != http.StatusCreated {
			t.Errorf("%s: %d %s, want 201", tc.name, r.Status, r.Body)
		}
		if n := ckKeyCount(t, s, bearer); n != i+1 {
			t.Fatalf("%s: %d keys, want %d", tc.name, n, i+1)
		}
	}
	// A cookie GET from anywhere is not a state change: allowed.
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", Headers: ckHeaders(ck, "Sec-Fetch-Site", "cross-site")}); r.Status != http.StatusOK {
		t.Fatalf("cookie GET cross-site: %d %s", r.Status, r.Body)
	}
	// Bearer clients are unaffected by browser headers.
	r := s.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/api-keys", Body: body, Bearer: bearer,
		Headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("bearer with cross-site headers: %d %s", r.Status, r.Body)
	}
	// Login CSRF: a cross-site or same-site page cannot log the visitor in.
	for _, site := range []string{"cross-site", "same-site"} {
		r := s.DoRaw(t, harness.Req{
			Method: http.MethodPost, Path: loginPath,
			Body:    map[string]string{"username": name, "password": pw, "session": "cookie"},
			Headers: map[string]string{"Sec-Fetch-Site": site},
		})
		if r.Status != http.StatusForbidden || ckSessionCookie(t, r) != nil {
			t.Errorf("login from a %s page: %d %s, want 403 and no cookie", site, r.Status, r.Body)
		}
	}
}

// TestCookieRefreshRacesAndLogout: concurrent cookie refreshes (tabs) all
// get the same successor cookie; the old value is then refused; logout
// clears the cookie and a copied value is dead.
func TestCookieRefreshRacesAndLogout(t *testing.T) {
	t.Parallel()
	s, _, name, pw, ck := ckStart(t, "viewer")

	const tabs = 4
	values := make([]string, tabs)
	var wg sync.WaitGroup
	for i := range tabs {
		wg.Go(func() {
			r := s.Do(t, harness.Req{Method: http.MethodPost, Path: refreshPath, Headers: ckHeaders(ck, "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json")})
			if r.Status != http.StatusOK || strings.Contains(string(r.Body), `"token"`) {
				t.Errorf("tab %d refresh: %d %s, want 200 without a token", i, r.Status, r.Body)
				return
			}
			if next := ckSessionCookie(t, r); next != nil {
				values[i] = next.Value
			}
		})
	}
	wg.Wait()
	for i := range values {
		if values[i] == "" || values[i] != values[0] || values[i] == ck.Value {
			t.Fatalf("tabs got different or no successor cookies")
		}
	}
	next := &http.Cookie{Name: ck.Name, Value: values[0]}
	if r := ckMe(t, s, ck); r.Status != http.StatusUnauthorized {
		t.Fatalf("old cookie after refresh: %d, want 401", r.Status)
	}
	if r := ckMe(t, s, next); r.Status != http.StatusOK {
		t.Fatalf("successor cookie: %d %s", r.Status, r.Body)
	}

	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Headers: ckHeaders(next, "Sec-Fetch-Site", "same-origin", "Content-Type", "application/json")})
	if r.Status != http.StatusNoContent {
		t.Fatalf("cookie logout: %d %s", r.Status, r.Body)
	}
	cleared := ckSessionCookie(t, r)
	if cleared == nil || cleared.Value != "" || cleared.MaxAge >= 0 || !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), ";"), "Max-Age=0") {
		t.Fatalf("logout did not clear the cookie: %v", r.Header.Values("Set-Cookie"))
	}
	if r := ckMe(t, s, next); r.Status != http.StatusUnauthorized {
		t.Fatalf("copied cookie after logout: %d, want 401", r.Status)
	}

	// Ending the cookie's own session clears it too; ending another does not.
	ck2 := ckLogin(t, s, name, pw)
	other := ckLogin(t, s, name, pw)
	var list struct {
		Data []struct {
			ID      string
			Current bool
		} `json:"data"`
	}
	s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Headers: ckHeaders(other)}).JSON(t, &list)
	var otherID string
	for _, d := range list.Data {
		if d.Current {
			otherID = d.ID
		}
	}
	s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Headers: ckHeaders(ck2)}).JSON(t, &list)
	var ownID string
	for _, d := range list.Data {
		if d.Current {
			ownID = d.ID
		}
	}
	jsonSameOrigin := []string{"Sec-Fetch-Site", "same-origin", "Content-Type", "application/json"}
	r = s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + otherID, Headers: ckHeaders(ck2, jsonSameOrigin...)})
	if r.Status != http.StatusNoContent || ckSessionCookie(t, r) != nil {
		t.Fatalf("end another session: %d %v, want 204 and the cookie kept", r.Status, r.Header.Values("Set-Cookie"))
	}
	r = s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + ownID, Headers: ckHeaders(ck2, jsonSameOrigin...)})
	if c := ckSessionCookie(t, r); r.Status != http.StatusNoContent || c == nil || c.Value != "" {
		t.Fatalf("end own session: %d %v, want 204 and the cookie cleared", r.Status, r.Header.Values("Set-Cookie"))
	}
	for _, c := range []*http.Cookie{ck2, other} {
		if r := ckMe(t, s, c); r.Status != http.StatusUnauthorized {
			t.Fatalf("cookie of an ended session: %d, want 401", r.Status)
		}
	}
}

// ckDeviceCookie returns the answer's device cookie, if any.
func ckDeviceCookie(t *testing.T, r *harness.Response) *http.Cookie {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(line); err == nil && ck.Name == httpapi.DeviceCookieName {
			if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.MaxAge < 30*24*3600 {
				t.Fatalf("device cookie attributes: %q", line)
			}
			return ck
		}
	}
	return nil
}

// TestDeviceCookie: a console login marks the browser with a long-lived,
// signed device cookie that is no credential; the next login from that
// browser keeps the same device; logout leaves it.
func TestDeviceCookie(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, name, pw := s.CreateUser(t, admin, "viewer")
	login := func(cookie string) *harness.Response {
		h := map[string]string{"Sec-Fetch-Site": "same-origin"}
		if cookie != "" {
			h["Cookie"] = cookie
		}
		r := s.Do(t, harness.Req{
			Method: http.MethodPost, Path: loginPath, Headers: h,
			Body: map[string]string{"username": name, "password": pw, "session": "cookie"},
		})
		if r.Status != http.StatusOK {
			t.Fatalf("cookie login: %d %s", r.Status, r.Body)
		}
		return r
	}
	r := login("")
	dev := ckDeviceCookie(t, r)
	if dev == nil {
		t.Fatalf("no device cookie: %v", r.Header.Values("Set-Cookie"))
	}
	sess := ckSessionCookie(t, r)
	if strings.Contains(dev.Value, sess.Value) || strings.Contains(dev.Value, name) {
		t.Fatalf("the device cookie carries the session or the user: %q", dev.Value)
	}
	id := strings.Split(dev.Value, ".")[1]
	// Renewed on the next login, same device.
	again := ckDeviceCookie(t, login(httpapi.DeviceCookieName+"="+dev.Value))
	if again == nil || strings.Split(again.Value, ".")[1] != id {
		t.Fatalf("the next login changed the device: %v → %v", dev, again)
	}
	// A forged one is replaced by a fresh device.
	forged := ckDeviceCookie(t, login(httpapi.DeviceCookieName+"=v1."+id+".1.AAAA"))
	if forged == nil || strings.Split(forged.Value, ".")[1] == id {
		t.Fatalf("a forged device cookie kept its device: %v", forged)
	}
	// It is no credential.
	if r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Headers: map[string]string{"Cookie": httpapi.DeviceCookieName + "=" + dev.Value}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("device cookie alone: %d, want 401", r.Status)
	}
	// Token logins (API clients) get none; logout does not clear it.
	if r := s.Do(t, harness.Req{Method: http.MethodPost, Path: loginPath, Body: map[string]string{"username": name, "password": pw}}); ckDeviceCookie(t, r) != nil {
		t.Fatal("a token login set a device cookie")
	}
	r = s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Headers: ckHeaders(sess, "Content-Type", "application/json")})
	if r.Status != http.StatusNoContent || ckDeviceCookie(t, r) != nil {
		t.Fatalf("logout: %d %v", r.Status, r.Header.Values("Set-Cookie"))
	}
}

// TestCookieCSRFOnEveryUnsafeRoute walks every unsafe route the server
// routes: authenticated by the cookie from a same-site page, or with a
// form's content type, each is refused 403 before its handler runs — and
// the session is still alive afterwards (logout and session end did not run).
func TestCookieCSRFOnEveryUnsafeRoute(t *testing.T) {
	t.Parallel()
	s, _, _, _, ck := ckStart(t, "admin")
	table := s.HTTP().RouteTable()
	walked := 0
	for _, key := range s.HTTP().RegisteredRoutes() {
		method, path, _ := strings.Cut(key, " ")
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		if table[key].Public && azSelfAuthenticating[key] == "" && key != "POST "+loginPath {
			continue // webhooks: their own auth, never the cookie
		}
		walked++
		for _, h := range [][]string{
			{"Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:1"},
			{"Sec-Fetch-Site", "same-origin", "Content-Type", "text/plain"},
		} {
			r := s.DoRaw(t, harness.Req{Method: method, Path: azConcrete(path), Body: "{}", Headers: ckHeaders(ck, h...)})
			if r.Status != http.StatusForbidden || r.Code() != "ACCESS_DENIED" {
				t.Errorf("%s with the cookie and %v: %d %s, want 403 ACCESS_DENIED", key, h, r.Status, r.Body)
			}
		}
	}
	if walked < 10 {
		t.Fatalf("walked only %d unsafe routes", walked)
	}
	if r := ckMe(t, s, ck); r.Status != http.StatusOK {
		t.Fatalf("the session after the walk: %d, want it alive", r.Status)
	}
}

// TestDeviceCookieLetsTheOwnerThroughProtectedMode: once an account is
// protected (too many failures from many clients), a browser that logged
// in to it before gets through from a network it never used, by its device
// cookie; the same login without the cookie, or with a forged one, is 429.
// The device is known from the very first console login.
func TestDeviceCookieLetsTheOwnerThroughProtectedMode(t *testing.T) {
	t.Parallel()
	s := behindProxy(t)
	admin := s.AdminToken(t)
	_, name, pw := s.CreateUser(t, admin, "viewer")
	consoleLogin := func(ip, password, cookie string) *harness.Response {
		h := map[string]string{"X-Forwarded-For": ip, "Sec-Fetch-Site": "same-origin"}
		if cookie != "" {
			h["Cookie"] = cookie
		}
		return s.DoRaw(t, harness.Req{
			Method: http.MethodPost, Path: loginPath, Headers: h,
			Body: map[string]string{"username": name, "password": password, "session": "cookie"},
		})
	}
	// The owner's one console login, from home, before the attack.
	r := consoleLogin("192.0.2.1", pw, "")
	dev := ckDeviceCookie(t, r)
	if r.Status != http.StatusOK || dev == nil {
		t.Fatalf("first console login: %d %v", r.Status, r.Header.Values("Set-Cookie"))
	}
	// A botnet guesses from many networks until the account is protected.
	for c := 1; c <= 5; c++ {
		for i := range 5 {
			r := s.DoRaw(t, loginFrom(fmt.Sprintf("203.0.113.%d", c), name, fmt.Sprintf("wrong-%d-%d", c, i)))
			if r.Status != http.StatusUnauthorized && r.Status != http.StatusTooManyRequests {
				t.Fatalf("guess %d from client %d: %d", i, c, r.Status)
			}
		}
	}
	// The owner travels: a new network, right password.
	const travel = "198.51.100.7"
	if r := consoleLogin(travel, pw, ""); r.Status != http.StatusTooManyRequests {
		t.Fatalf("protected account, unknown browser: %d, want 429", r.Status)
	}
	forged := httpapi.DeviceCookieName + "=v1." + strings.Split(dev.Value, ".")[1] + ".1796112000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if r := consoleLogin(travel, pw, forged); r.Status != http.StatusTooManyRequests {
		t.Fatalf("protected account, forged device cookie: %d, want 429", r.Status)
	}
	if r := consoleLogin(travel, pw, httpapi.DeviceCookieName+"="+dev.Value); r.Status != http.StatusOK {
		t.Fatalf("protected account, the owner's browser from a new network: %d %s, want 200", r.Status, r.Body)
	}
}
