package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/m9m/auth/usecase/authn"
)

func corsHandler(t *testing.T, s CORSSettings, lim *edgeLimiter) http.Handler {
	t.Helper()
	mw, err := NewCORS(s)
	if err != nil {
		t.Fatal(err)
	}
	return edgeServer(t, Settings{CORS: mw}, lim)
}

var corsApp = CORSSettings{
	AllowedOrigins:   []string{"https://app.example.com"},
	AllowedMethods:   []string{"GET", "POST"},
	AllowedHeaders:   []string{"Authorization", "Content-Type"},
	AllowCredentials: true,
	MaxAge:           600,
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	preflight := func(origin string) map[string]string {
		return map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "GET",
			"Access-Control-Request-Headers": "authorization",
		}
	}
	tests := []struct {
		name        string
		settings    CORSSettings
		origin      string
		wantAllowed bool
		wantCreds   bool
	}{
		{"allowed origin", corsApp, "https://app.example.com", true, true},
		{"other origin", corsApp, "https://evil.example.net", false, false},
		{"suffix trick", corsApp, "https://app.example.com.evil.io", false, false},
		{"prefix trick", corsApp, "https://evilapp.example.com", false, false},
		{"other scheme", corsApp, "http://app.example.com", false, false},
		{"other port", corsApp, "https://app.example.com:8443", false, false},
		{"null origin", corsApp, "null", false, false},
		{"wildcard reflects the origin", CORSSettings{AllowedOrigins: []string{"*"}, MaxAge: 60}, "https://any.example.org", true, false},
		{"wildcard still refuses null", CORSSettings{AllowedOrigins: []string{"*"}}, "null", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lim := &edgeLimiter{}
			h := corsHandler(t, tc.settings, lim)
			// A protected route, no credentials: a preflight still gets 204.
			rec := edgeDo(h, http.MethodOptions, "/api/v1/things", "192.0.2.1:1", preflight(tc.origin))
			if rec.Code != http.StatusNoContent {
				t.Fatalf("preflight: %d %s", rec.Code, rec.Body)
			}
			if n := len(lim.seen()); n != 0 {
				t.Errorf("preflight reached the guard (%d rate-limit calls)", n)
			}
			hdr := rec.Header()
			if !tc.wantAllowed {
				for k := range hdr {
					if len(k) > 15 && k[:15] == "Access-Control-" {
						t.Errorf("refused origin got %s: %q", k, hdr.Get(k))
					}
				}
				return
			}
			if got := hdr.Get("Access-Control-Allow-Origin"); got != tc.origin {
				t.Errorf("Allow-Origin %q, want %q", got, tc.origin)
			}
			if got := hdr.Get("Access-Control-Allow-Credentials"); (got == "true") != tc.wantCreds {
				t.Errorf("Allow-Credentials %q, want credentials=%v", got, tc.wantCreds)
			}
			if got, want := hdr.Get("Access-Control-Max-Age"), itoa(tc.settings.MaxAge); got != want {
				t.Errorf("Max-Age %q, want %q", got, want)
			}
			if !contains(hdr.Values("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin", hdr.Values("Vary"))
			}
			if hdr.Get("Access-Control-Allow-Methods") == "" {
				t.Error("no Allow-Methods")
			}
		})
	}
}

func TestCORSActualRequests(t *testing.T) {
	t.Parallel()
	h := corsHandler(t, corsApp, &edgeLimiter{})
	for _, tc := range []struct {
		name, origin, authz string
		status              int
		allowed             bool
	}{
		{"allowed origin, no credentials", "https://app.example.com", "", http.StatusUnauthorized, true},
		{"allowed origin, credentials", "https://app.example.com", "Basic dTpw", http.StatusOK, true},
		{"refused origin, credentials", "https://evil.example.net", "Basic dTpw", http.StatusOK, false},
		{"no origin", "", "", http.StatusUnauthorized, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.origin != "" {
				hdr["Origin"] = tc.origin
			}
			if tc.authz != "" {
				hdr["Authorization"] = tc.authz
			}
			rec := edgeDo(h, http.MethodGet, "/api/v1/things", "192.0.2.1:1", hdr)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			got := rec.Header().Get("Access-Control-Allow-Origin")
			if tc.allowed {
				if got != tc.origin || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
					t.Errorf("allowed origin: Allow-Origin %q, Allow-Credentials %q", got, rec.Header().Get("Access-Control-Allow-Credentials"))
				}
				if !contains(splitList(rec.Header().Get("Access-Control-Expose-Headers")), "X-Request-ID") {
					t.Errorf("Expose-Headers %q lacks X-Request-ID", rec.Header().Get("Access-Control-Expose-Headers"))
				}
			} else if got != "" {
				t.Errorf("refused origin got Allow-Origin %q", got)
			}
			if tc.origin != "" && !contains(rec.Header().Values("Vary"), "Origin") {
				t.Errorf("Vary %q lacks Origin", rec.Header().Values("Vary"))
			}
		})
	}
}

// Without CORS, echo's router still answers OPTIONS itself (204 + Allow),
// never the guard.
func TestOptionsWithoutCORSNeverReachesTheGuard(t *testing.T) {
	t.Parallel()
	lim := &edgeLimiter{}
	h := edgeServer(t, Settings{}, lim)
	rec := edgeDo(h, http.MethodOptions, "/api/v1/things", "192.0.2.1:1", map[string]string{"Origin": "https://app.example.com"})
	// Under /api/v1 the answer is the same for existing and unknown paths:
	// OPTIONS must not enumerate what the catch-all's 401 hides.
	unknown := edgeDo(h, http.MethodOptions, "/api/v1/nothing-here", "192.0.2.1:1", nil)
	if rec.Code != http.StatusNoContent || unknown.Code != http.StatusNoContent || rec.Header().Get("Allow") != "" || unknown.Header().Get("Allow") != "" {
		t.Fatalf("OPTIONS: existing path %d Allow %q, unknown path %d Allow %q", rec.Code, rec.Header().Get("Allow"), unknown.Code, unknown.Header().Get("Allow"))
	}
	// Outside it, the router's Allow is passed on.
	if rec := edgeDo(h, http.MethodOptions, "/health", "192.0.2.1:1", nil); rec.Code != http.StatusNoContent || !contains(rec.Header().Values("Allow"), "GET") {
		t.Errorf("OPTIONS /health: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS header without CORS enabled")
	}
	if len(lim.seen()) != 0 {
		t.Error("OPTIONS reached the guard")
	}
}

func TestCORSRefusesWildcardWithCredentials(t *testing.T) {
	t.Parallel()
	if _, err := NewCORS(CORSSettings{AllowedOrigins: []string{"https://a.example", "*"}, AllowCredentials: true}); err == nil {
		t.Fatal("wildcard + credentials accepted")
	}
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		for _, part := range splitList(v) {
			if part == s {
				return true
			}
		}
	}
	return false
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FuzzCORSOrigin: whatever a browser (or anyone) puts in Origin, only the
// configured origin is ever echoed back.
func FuzzCORSOrigin(f *testing.F) {
	for _, o := range []string{"https://app.example.com", "https://APP.example.com", "https://app.example.com.evil.io", "null", "", "*", "https://app.example.com/", "https://app.example.com\r\nX: y"} {
		f.Add(o)
	}
	mw, err := NewCORS(corsApp)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := Build(Settings{CORS: mw}, zap.NewNop(), &authn.Chain{}, nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, origin string) {
		for _, method := range []string{http.MethodOptions, http.MethodGet} {
			rec := edgeDo(h, method, "/health", "192.0.2.1:1", map[string]string{"Origin": origin, "Access-Control-Request-Method": "GET"})
			got := rec.Header().Get("Access-Control-Allow-Origin")
			want := ""
			if strings.EqualFold(origin, "https://app.example.com") {
				want = origin
			}
			if got != want {
				t.Fatalf("%s with Origin %q: Allow-Origin %q, want %q", method, origin, got, want)
			}
		}
	})
}
