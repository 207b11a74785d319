package e2e_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// TestConsoleIsServedWithItsOwnCSP: / redirects to the console, its files
// come with the strict console CSP (the API keeps its own), and no file
// holds inline script, inline style or event-handler attributes.
func TestConsoleIsServedWithItsOwnCSP(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/console"} {
		resp, err := noFollow.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/console/" {
			t.Fatalf("GET %s: %d Location %q, want 302 to /console/", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	files := map[string]string{
		"/console/":            "text/html",
		"/console/index.html":  "text/html",
		"/console/console.css": "text/css",
		"/console/js/app.js":   "text/javascript",
		"/console/js/api.js":   "text/javascript",
		"/console/js/pages.js": "text/javascript",
		"/console/js/dom.js":   "text/javascript",
		"/console/favicon.svg": "image/svg+xml",
	}
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	inline := regexp.MustCompile(`(?i)<style|\sstyle\s*=|\son[a-z]+\s*=|javascript:`)
	for path, ctype := range files {
		r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: path})
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), ctype) {
			t.Fatalf("GET %s: %d %q, want 200 %s", path, r.Status, r.Header.Get("Content-Type"), ctype)
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, d := range []string{"script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'", "form-action 'self'", "default-src 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("GET %s: CSP %q allows unsafe-*", path, csp)
		}
		if strings.HasSuffix(path, ".html") || strings.HasSuffix(path, "/") {
			if m := inline.FindString(string(r.Body)); m != "" {
				t.Errorf("GET %s: inline style or handler %q", path, m)
			}
			for _, m := range scripts.FindAllStringSubmatch(string(r.Body), -1) {
				if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
					t.Errorf("GET %s: inline script %q", path, m[0])
				}
			}
		}
	}
	for _, path := range []string{"/console/nope.js", "/console/../go.mod", "/console/js/"} {
		r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: path})
		if r.Status != http.StatusNotFound && r.Status != http.StatusOK {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
		if r.Status == http.StatusOK && strings.Contains(string(r.Body), "module github.com") {
			t.Errorf("GET %s served a file outside the console", path)
		}
	}
	// The API's own CSP is unchanged.
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/health"})
	if csp := r.Header.Get("Content-Security-Policy"); csp != "default-src 'none'; frame-ancestors 'none'" {
		t.Fatalf("API CSP changed: %q", csp)
	}
}

// TestNoBasicChallengeToScripts: with basic auth on, a 401 to a page's
// script carries no Basic challenge (the browser would put its own
// password dialog over the console); other clients still get it.
func TestNoBasicChallengeToScripts(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "basic-" + strings.Repeat("q", 16)}
	}))
	for _, tc := range []struct {
		mode      string
		wantBasic bool
	}{{"", true}, {"navigate", true}, {"cors", false}, {"same-origin", false}} {
		r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Headers: map[string]string{"Sec-Fetch-Mode": tc.mode}})
		got := r.Header.Get("WWW-Authenticate")
		if r.Status != http.StatusUnauthorized || strings.Contains(got, "Basic") != tc.wantBasic || !strings.Contains(got, "Bearer") {
			t.Errorf("Sec-Fetch-Mode %q: %d WWW-Authenticate %q, want Basic offered: %v", tc.mode, r.Status, got, tc.wantBasic)
		}
	}
}
