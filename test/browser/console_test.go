package browser_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

func cookieHeader(v string) map[string]string {
	return map[string]string{"Cookie": httpapi.SessionCookieName + "=" + v}
}

func keyCount(t *testing.T, s *harness.Server, bearer string) int {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/api-keys", Bearer: bearer})
	var out struct {
		Data []struct{ ID string } `json:"data"`
	}
	r.JSON(t, &out)
	return len(out.Data)
}

// otherSession ends, through the API, the caller's sessions except the
// bearer's own: what a user does from another device.
func endOtherSessions(t *testing.T, s *harness.Server, bearer string) {
	t.Helper()
	var list struct {
		Data []struct {
			ID      string
			Current bool
		} `json:"data"`
	}
	s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Bearer: bearer}).JSON(t, &list)
	for _, d := range list.Data {
		if !d.Current {
			if r := s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + d.ID, Bearer: bearer}); r.Status != http.StatusNoContent {
				t.Fatalf("end session: %d %s", r.Status, r.Body)
			}
		}
	}
}

// TestConsoleInChromium walks the console as a user would, in one tab:
// sign-in errors, the cookie as DevTools sees it, keys shown once and used
// from outside, sessions, a 401 that brings the sign-in back without losing
// the page, CSRF attempts from real pages of another port and another host
// name, password change, sign out; and no page error or CSP violation.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel() // its own tab; the one browser is shared
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, name, pw := s.CreateUser(t, admin, "admin")
	b := newTab(t, false) // the default cookie jar, shared with the attack tab below

	// / sends the browser to the console, which asks who is signed in.
	b.navigate(s.URL + "/")
	b.waitVisible("signin")
	if p := evalJS[string](b, `location.pathname`); p != "/console/" {
		t.Fatalf("GET / landed on %s, want /console/", p)
	}

	// A wrong password shows an error, and no cookie is set.
	b.signIn(name, "not-the-password")
	b.waitVisible("error")
	if msg := b.textOf("error"); !strings.Contains(msg, "Wrong username or password") {
		t.Fatalf("sign-in error says %q", msg)
	}
	if b.sessionCookie(s.URL) != nil {
		t.Fatal("a failed sign-in set a session cookie")
	}
	b.screenshot("console-signin")

	b.signIn(name, pw)
	b.waitJS(`document.querySelector('[data-testid="whoami"]').textContent.includes(` + jsString(name) + `)`)
	b.screenshot("console-whoami")

	// The cookie as the browser holds it: __Host-, HttpOnly, Secure,
	// SameSite=Strict, Path=/, host-only, under 4 KiB, expiring.
	ck := b.sessionCookie(s.URL)
	if ck == nil {
		t.Fatalf("no session cookie after sign-in: %+v", b.cookies(s.URL))
	}
	if !ck.HTTPOnly || !ck.Secure || ck.SameSite != network.CookieSameSiteStrict || ck.Path != "/" || ck.Session || ck.Size >= 4096 || strings.HasPrefix(ck.Domain, ".") {
		t.Fatalf("session cookie as stored: %+v", ck)
	}
	// No script sees the token: not in document.cookie, not in storage.
	seen := evalJS[string](b, `document.cookie + "|" + JSON.stringify(Object.entries(localStorage)) + JSON.stringify(Object.entries(sessionStorage))`)
	if strings.Contains(seen, ck.Value) || strings.Contains(seen, "m9m_session") || strings.Contains(seen, "eyJ") {
		t.Fatalf("the page can read the session: %q", seen)
	}
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", cookieHeader(ck.Value)); got != http.StatusOK {
		t.Fatalf("the browser's cookie value from outside: %d", got)
	}

	// API keys: created, shown once, used from outside; after a reload only listed.
	b.click("nav-keys")
	b.waitJS(`document.querySelector('#view h1')?.textContent === "API keys"`)
	b.typeInto("key-name", "CI deploy")
	b.click("key-create")
	b.waitVisible2("key-secret")
	secret := b.textOf("key-secret")
	if !strings.HasPrefix(secret, "m9m_sk_") {
		t.Fatalf("key shown: %q", secret)
	}
	b.waitRows("key-row", 1)
	b.screenshot("console-keys")
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", map[string]string{"X-API-Key": secret}); got != http.StatusOK {
		t.Fatalf("the new key from outside the browser: %d", got)
	}
	b.do(chromedp.Reload())
	b.waitRows("key-row", 1)
	if n := b.count(`[data-testid="key-secret"]`); n != 0 {
		t.Fatal("the key is shown again after a reload")
	}
	if html := evalJS[string](b, `document.body.innerText`); strings.Contains(html, secret) || !strings.Contains(html, secret[:10]) {
		t.Fatalf("after a reload the list must show the prefix and not the key")
	}
	// Phone-sized, the same page still reads.
	b.do(chromedp.EmulateViewport(390, 844))
	b.screenshot("console-phone")
	if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("page is %dpx wide on a 390px phone", w)
	}
	b.do(chromedp.EmulateViewport(1100, 760)) // back to the desktop window
	// Rotate (no grace): a new key, the old one dead at once; then revoke.
	rowID := `document.querySelector('[data-testid="key-row"]')?.dataset.id`
	before := evalJS[string](b, rowID)
	b.click("key-rotate")
	b.waitVisible2("key-secret")
	b.waitJS(rowID + ` !== "` + before + `"`) // the list shows the new key
	rotated := b.textOf("key-secret")
	if rotated == secret || !strings.HasPrefix(rotated, "m9m_sk_") {
		t.Fatalf("rotation showed %q", rotated)
	}
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", map[string]string{"X-API-Key": secret}); got != http.StatusUnauthorized {
		t.Fatalf("rotated-away key: %d, want 401", got)
	}
	b.waitRows("key-row", 1)
	b.click("key-revoke")
	b.waitRows("key-row", 0)
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", map[string]string{"X-API-Key": rotated}); got != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d, want 401", got)
	}

	// Sessions: this browser's is marked; ending another kills its token.
	phone := s.Login(t, name, pw)
	b.click("nav-sessions")
	b.waitRows("session-row", 2)
	if n := b.count(`[data-testid="session-row"][data-current="true"]`); n != 1 {
		t.Fatalf("%d sessions marked current, want 1", n)
	}
	b.screenshot("console-sessions")
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="session-row"][data-current="false"] [data-testid="session-end"]`)))
	b.waitRows("session-row", 1)
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", map[string]string{"Authorization": "Bearer " + phone}); got != http.StatusUnauthorized {
		t.Fatalf("token of the ended session: %d, want 401", got)
	}

	// A 401 brings the sign-in back, and the page (with what was typed) is
	// still there afterwards: the request goes through after signing in.
	b.click("nav-keys")
	b.waitJS(`document.querySelector('#view h1')?.textContent === "API keys"`)
	endOtherSessions(t, s, s.Login(t, name, pw)) // from another device
	b.typeInto("key-name", "typed before expiry")
	b.click("key-create")
	b.waitVisible("signin")
	if !b.visible("signin-why") || b.visible("view") {
		t.Fatal("the sign-in did not replace the page after a 401")
	}
	if v := evalJS[string](b, `document.querySelector('[data-testid="key-name"]').value`); v != "typed before expiry" {
		t.Fatalf("the page lost its input: %q", v)
	}
	b.signIn(name, pw)
	b.waitVisible2("key-secret")
	b.waitRows("key-row", 1)
	if !strings.Contains(evalJS[string](b, `document.body.innerText`), "typed before expiry") {
		t.Fatal("the request made before the 401 did not complete after signing in")
	}

	// CSRF from real pages: another port of the same host (same-site), then
	// another host name (cross-site). Nothing they send may act.
	ck = b.sessionCookie(s.URL)
	keysBefore := keyCount(t, s, admin)
	port := startAttacker(t)
	attacks := newTab(t, false) // same cookie jar as the console's tab
	for _, origin := range []string{"http://127.0.0.1:" + port, "http://localhost:" + port} {
		before, before403 := map[string]int{}, map[string]int{}
		paths := []string{"/api/v1/api-keys", "/api/v1/auth/password", "/api/v1/auth/logout", "/api/v1/auth/login"}
		for _, p := range paths {
			before403[p] = logCount(s, p, http.StatusForbidden)
			before[p] = before403[p] + logCount(s, p, http.StatusUnauthorized)
		}
		attacks.navigate(origin + "/attack.html?target=" + s.URL)
		attacks.waitJS(`document.title === "sent"`)
		for _, p := range paths {
			waitLog(t, s, p, before[p], http.StatusForbidden, http.StatusUnauthorized)
		}
		if strings.HasPrefix(origin, "http://127.0.0.1") {
			// Same-site: the browser did send the cookie; the CSRF check refused it.
			for _, p := range paths {
				if n := logCount(s, p, http.StatusForbidden); n <= before403[p] {
					t.Fatalf("a same-site page's POST %s was not refused with 403", p)
				}
			}
			n := logCount(s, "/api/v1/auth/logout", http.StatusForbidden)
			attacks.startNavigation(origin + "/attack.html?mode=form&target=" + s.URL)
			waitLog(t, s, "/api/v1/auth/logout", n, http.StatusForbidden)
		}
		if n := logCount(s, "/api/v1/auth/login", http.StatusForbidden); n <= before403["/api/v1/auth/login"] {
			t.Fatalf("login from %s was not refused with 403; logs:\n%s", origin, grepLog(s.Logs(), "auth/login"))
		}
	}
	if got := keyCount(t, s, admin); got != keysBefore {
		t.Fatalf("CSRF pages changed the keys: %d → %d", keysBefore, got)
	}
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", cookieHeader(ck.Value)); got != http.StatusOK {
		t.Fatalf("the console's session after CSRF attempts: %d, want it alive", got)
	}
	if now := b.sessionCookie(s.URL); now == nil || now.Value != ck.Value {
		t.Fatal("a CSRF page changed the console's cookie")
	}
	s.Login(t, name, pw) // the password is still the user's own

	// Change password: the console stays signed in, other sessions end.
	other := s.Login(t, name, pw)
	newPW := "n3w-" + pw
	b.click("nav-password")
	b.typeInto("password-current", pw)
	b.typeInto("password-new", newPW)
	b.click("password-submit")
	b.waitJS(`document.getElementById("notice").textContent.includes("Password changed")`)
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", map[string]string{"Authorization": "Bearer " + other}); got != http.StatusUnauthorized {
		t.Fatalf("another session after the password change: %d, want 401", got)
	}
	s.Login(t, name, newPW)

	// Admin pages.
	b.click("nav-users")
	b.waitJS(`document.querySelectorAll('[data-testid="user-row"]').length >= 2`)
	rows := b.count(`[data-testid="user-row"]`)
	// Create a user, then disable them: they can no longer log in.
	// A fresh name per run: the package's database outlives one run under -count.
	newUser, newUserPW := fmt.Sprintf("carol-%d", time.Now().UnixNano()), "carol-passphrase-1"
	b.do(chromedp.SendKeys(chromedp.ID("user-username"), newUser), chromedp.SendKeys(chromedp.ID("user-password"), newUserPW))
	b.do(chromedp.Click(chromedp.CSS(`#view form button[type="submit"]`)))
	b.waitRows("user-row", rows+1)
	s.Login(t, newUser, newUserPW)
	b.screenshot("console-users")
	carolRow := `[data-testid="user-row"][data-id="` + evalJS[string](b, `[...document.querySelectorAll('[data-testid="user-row"]')].find((r) => r.textContent.includes("`+newUser+`")).dataset.id`) + `"]`
	b.do(chromedp.Click(chromedp.CSS(carolRow + ` button`)))
	b.waitJS(`document.querySelector('` + carolRow + `')?.textContent.includes("disabled")`)
	if r := s.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: map[string]string{"username": newUser, "password": newUserPW}}); r.Status != http.StatusUnauthorized {
		t.Fatalf("login of the user disabled in the console: %d, want 401", r.Status)
	}
	// Deleting a user who owns workflows (issue 18): refused with the count
	// until the admin chooses; transferring moves the workflow to the heir.
	admin = s.AdminToken(t)
	leaverID, leaverName, leaverPW := s.CreateUser(t, admin, "editor")
	heirID, heirName, _ := s.CreateUser(t, admin, "editor")
	if r := s.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: s.Login(t, leaverName, leaverPW),
		Body: map[string]any{"name": "team automation"},
	}); r.Status != http.StatusCreated {
		t.Fatalf("workflow of the user to delete: %d %s", r.Status, r.Body)
	}
	b.click("nav-keys") // leave and come back: the users page lists the new users
	b.click("nav-users")
	leaverRow := `[data-testid="user-row"][data-id="` + leaverID + `"]`
	b.waitJS(`!!document.querySelector('` + leaverRow + `') && !!document.querySelector('[data-testid="user-row"][data-id="` + heirID + `"]')`)
	b.do(chromedp.Click(chromedp.CSS(leaverRow + ` [data-testid="user-delete"]`)))
	b.expectAnswer(http.StatusConflict, s.URL+"/api/v1/users/"+leaverID)
	b.do(chromedp.Click(chromedp.CSS(leaverRow + ` [data-testid="user-delete-confirm"]`)))
	b.waitJS(`(document.querySelector('[data-testid="error"]')?.textContent || "").includes("1 workflow")`)
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/users/" + leaverID, Bearer: admin}); r.Status != http.StatusOK {
		t.Fatalf("the refused deletion deleted the user: %d", r.Status)
	}
	b.do(chromedp.SetValue(chromedp.CSS(leaverRow+` [data-testid="user-delete-workflows"]`), "transfer:"+heirID))
	if opts := evalJS[string](b, `[...document.querySelectorAll('`+leaverRow+` [data-testid="user-delete-workflows"] option')].map((o) => o.textContent).join("|")`); !strings.Contains(opts, heirName) {
		t.Fatalf("transfer targets offered: %q, want %s among them", opts, heirName)
	}
	b.do(chromedp.Click(chromedp.CSS(leaverRow + ` [data-testid="user-delete-confirm"]`)))
	b.waitJS(`!document.querySelector('` + leaverRow + `')`)
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows", Bearer: admin})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), heirID) || strings.Contains(string(r.Body), leaverID) {
		t.Fatalf("after the transfer the workflows list is %d %s, want the workflow owned by %s", r.Status, r.Body, heirID)
	}

	// The audit log, filtered by action.
	b.click("nav-audit")
	b.waitJS(`document.querySelectorAll('[data-testid="audit-row"]').length >= 1`)
	b.screenshot("console-audit")
	b.do(chromedp.SetValue(chromedp.ID("audit-action"), "user.update"))
	b.do(chromedp.Click(chromedp.CSS(`#view form button[type="submit"]`)))
	b.waitJS(`(() => { const r = [...document.querySelectorAll('[data-testid="audit-row"]')]; return r.length >= 1 && r.every((e) => e.textContent.includes("user.update")); })()`)

	// Sign out: the cookie is gone from the browser and dead on the server.
	last := b.sessionCookie(s.URL)
	b.click("logout")
	b.waitVisible("signin")
	b.waitJS(`!document.querySelector('[data-testid="whoami"]').textContent`)
	if c := b.sessionCookie(s.URL); c != nil {
		t.Fatalf("the session cookie survived sign-out: %+v", c)
	}
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", cookieHeader(last.Value)); got != http.StatusUnauthorized {
		t.Fatalf("the signed-out cookie's copied value: %d, want 401", got)
	}

	if p := b.problems(); len(p) > 0 {
		t.Fatalf("the console's pages reported problems:\n  %s", strings.Join(p, "\n  "))
	}
}

// TestConsoleRefreshesBeforeExpiry: with 4-second tokens (and cookies),
// the console stays signed in well past several lifetimes, because it
// refreshes the cookie before it expires.
func TestConsoleRefreshesBeforeExpiry(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Security.JWT.Expiration = 4 * time.Second
		c.Security.JWT.Leeway = time.Second
	}))
	b := newTab(t, true)
	b.navigate(s.URL + "/console/")
	b.signIn(harness.AdminUsername, s.AdminPassword())
	b.waitJS(`document.querySelector('[data-testid="whoami"]').textContent.includes("admin")`)
	first := b.sessionCookie(s.URL)
	if first == nil {
		t.Fatal("no session cookie")
	}
	b.do(chromedp.Sleep(6 * time.Second)) // one and a half lifetimes
	now := b.sessionCookie(s.URL)
	if now == nil || now.Value == first.Value {
		t.Fatalf("the console did not refresh its cookie within 6s of 4s tokens: %+v", now)
	}
	b.click("nav-sessions")
	// This browser's session is listed as the current one (the admin may
	// have other sessions: the package's tests share one database).
	b.waitJS(`!!document.querySelector('[data-testid="session-row"][data-current="true"]')`)
	if b.visible("signin") {
		t.Fatal("signed out although the console refreshes")
	}
	if got := apiStatus(t, s, http.MethodGet, "/api/v1/auth/me", cookieHeader(first.Value)); got != http.StatusUnauthorized {
		t.Fatalf("the first, rotated-away cookie: %d, want 401", got)
	}
	if p := b.problems(); len(p) > 0 {
		t.Fatalf("problems:\n  %s", strings.Join(p, "\n  "))
	}
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// waitVisible2 waits for an element by test id to exist and be shown.
func (b *tab) waitVisible2(testid string) {
	b.t.Helper()
	b.waitJS(`(() => { const e = document.querySelector('[data-testid="` + testid + `"]'); return !!e && e.offsetParent !== null; })()`)
}

func grepLog(logs, needle string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, needle) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
