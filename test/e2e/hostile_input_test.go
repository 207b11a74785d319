package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/m9m/auth/test/harness"
)

// jsonText writes v as the inside of a JSON string literal keeping its
// bytes: quotes, backslashes and control characters are escaped (a NUL
// becomes \u0000), invalid UTF-8 stays invalid. With raw, backslashes are
// left alone, so v can carry escapes of its own (\ud800, \u0000).
func jsonText(v string, raw bool) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\' && !raw:
			b.WriteString(`\\`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerText is v as far as an HTTP client can send it in a header: the
// control characters that no client may send (and net/http's server would
// refuse with 400 anyway) are dropped; invalid UTF-8 stays.
func headerText(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= 0x20 && c != 0x7f || c == '\t' {
			b = append(b, c)
		}
	}
	return string(b)
}

// FuzzHostileStrings drives every JSON body field, query parameter, path
// parameter and recorded header of the API with one hostile string (NUL,
// invalid UTF-8, escapes Postgres refuses, 64 KiB, a multibyte character
// across the 512-byte User-Agent cut) and requires that no answer is a 5xx
// (contract §4: every store-bound string is valid UTF-8 without NUL, or 400).
func FuzzHostileStrings(f *testing.F) {
	for _, seed := range []string{
		"", "\x00", "a\x00b", "\xff\xfe\xfd", "\xc3", "\xed\xa0\x80", `\u0000`, `\ud800`, `x\udc00y`,
		strings.Repeat("a", 511) + "é€😀", strings.Repeat("é", 32768), strings.Repeat("\x00", 65536),
		strings.Repeat("\xff", 65536), "2026-01-27T10:00:00Z", "viewer",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	s := harness.Start(f)
	admin := s.AdminToken(f)
	viewerID, _, _ := s.CreateUser(f, admin, "viewer")
	r := s.Do(f, harness.Req{Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: admin, Body: map[string]any{
		"name": "hostile", "active": true,
		"webhook": map[string]any{"path": "hostile-input", "auth": map[string]any{"type": "header", "name": "X-Hook-Token", "value": "hostile-input-token-0123456789"}},
	}})
	if r.Status != http.StatusCreated {
		f.Fatalf("create workflow: %d %s", r.Status, r.Body)
	}
	var wf struct{ ID string }
	r.JSON(f, &wf)

	f.Fuzz(func(t *testing.T, v string, raw bool) {
		j := jsonText(v, raw)
		h := headerText(v)
		p := url.PathEscape(v)
		q := url.QueryEscape(v)
		hostileHeaders := map[string]string{"User-Agent": h, "X-Request-ID": h, "X-Forwarded-For": h, "Accept-Language": h}
		reqs := []harness.Req{
			{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: `{"username":"` + j + `","password":"wrong-password"}`, Headers: hostileHeaders},
			{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: `{"username":"admin","password":"` + j + `"}`, Headers: hostileHeaders},
			{Method: http.MethodPost, Path: "/api/v1/users", Bearer: admin, Body: `{"username":"` + j + `","password":"` + j + `","role":"viewer"}`},
			{Method: http.MethodPatch, Path: "/api/v1/users/" + viewerID, Bearer: admin, Body: `{"role":"` + j + `"}`},
			{Method: http.MethodPatch, Path: "/api/v1/users/" + p, Bearer: admin, Body: `{"disabled":false}`},
			{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: admin, Body: `{"name":"` + j + `","expiresAt":"` + j + `"}`, Headers: hostileHeaders},
			{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: admin, Body: `{"name":"k","scopes":["` + j + `"]}`},
			{Method: http.MethodPost, Path: "/api/v1/api-keys/" + p + "/rotate", Bearer: admin, Body: `{"graceSeconds":1}`},
			{Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: admin, Body: `{"name":"` + j + `","nodes":[{"n":"` + j + `"}],"connections":{"` + j + `":"` + j + `"}}`},
			{Method: http.MethodPost, Path: "/api/v1/workflows", Bearer: admin, Body: `{"name":"w","webhook":{"path":"` + j + `","auth":{"type":"header","name":"` + j + `","value":"` + j + `"}}}`},
			{Method: http.MethodPut, Path: "/api/v1/workflows/" + wf.ID, Bearer: admin, Body: `{"name":"` + j + `","active":true,"nodes":[],"connections":{},"webhook":{"path":"hostile-input","auth":{"type":"header","name":"X-Hook-Token","value":"hostile-input-token-0123456789"}}}`},
			{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: admin, Body: `{"currentPassword":"` + j + `","newPassword":"` + j + `"}`},
			{Method: http.MethodGet, Path: "/api/v1/users?cursor=" + q + "&limit=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/users?cursor=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/api-keys?userId=" + q + "&cursor=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/api-keys?cursor=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/workflows?cursor=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/workflows/" + wf.ID + "/executions?cursor=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/audit-events?actor=" + q + "&action=" + q + "&from=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/audit-events?cursor=" + q, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/workflows/" + p, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/users/" + p, Bearer: admin},
			{Method: http.MethodDelete, Path: "/api/v1/api-keys/" + p, Bearer: admin},
			{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + p, Bearer: admin},
			{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Bearer: admin, Headers: hostileHeaders},
			{Method: http.MethodPost, Path: "/webhook/hostile-input", Body: `{"data":"` + j + `","` + j + `":1}`, Headers: map[string]string{"X-Hook-Token": "hostile-input-token-0123456789", "User-Agent": h, "X-Custom": h}},
			{Method: http.MethodPost, Path: "/webhook/" + p, Body: `{}`},
		}
		for _, r := range reqs {
			if got := s.DoRaw(t, r); got.Status >= 500 {
				t.Fatalf("%s %.120q: %d %s", r.Method, r.Path, got.Status, got.Body)
			}
		}
	})
}

// A User-Agent whose byte 512 falls inside a character, and one of raw
// invalid UTF-8, still log in (six times: the throttle is not spent by them)
// and are kept as valid UTF-8 cut on a rune boundary.
func TestHostileUserAgentsLogIn(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	_, name, pw := s.CreateUser(t, s.AdminToken(t), "viewer")
	var token string
	for i, ua := range []string{strings.Repeat("a", 511) + "é", strings.Repeat("€", 300), "curl/\xff\xfe", "a\xc3", strings.Repeat("😀", 200), "ok"} {
		r := s.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: map[string]string{"username": name, "password": pw}, Headers: map[string]string{"User-Agent": ua}})
		if r.Status != http.StatusOK {
			t.Fatalf("login %d with a hostile User-Agent: %d %s", i, r.Status, r.Body)
		}
		var out struct{ Token string }
		r.JSON(t, &out)
		token = out.Token
	}
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Bearer: token})
	var page struct {
		Data []struct {
			UserAgent string `json:"userAgent"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil || len(page.Data) != 6 {
		t.Fatalf("sessions: %v %s, want 6", err, r.Body)
	}
	cut := strings.Repeat("a", 511)
	found := false
	for _, sess := range page.Data {
		found = found || sess.UserAgent == cut
		if !utf8.ValidString(sess.UserAgent) || len(sess.UserAgent) > 512 {
			t.Fatalf("stored User-Agent %q is not valid UTF-8 within 512 bytes", sess.UserAgent)
		}
	}
	if !found {
		t.Fatalf("no session kept the 511 bytes before the cut character: %+v", page.Data)
	}
}
