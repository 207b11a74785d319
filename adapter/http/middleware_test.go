package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/authn"
)

// These tests pin what the edge middleware promises (request IDs, security
// headers, the access line and its scrubbing, the metrics labels) so that
// the hot path can be made cheaper without changing any of it.

const mwToken = "mw-test-token"

// mwMetrics records ObserveRequest calls.
type mwMetrics struct {
	NopMetrics
	mu  sync.Mutex
	obs []string // "METHOD route status"
}

func (m *mwMetrics) ObserveRequest(method, route string, status int, seconds float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seconds < 0 {
		route += " (negative latency)"
	}
	m.obs = append(m.obs, method+" "+route+" "+strconv.Itoa(status))
}

func (m *mwMetrics) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.obs) == 0 {
		return ""
	}
	return m.obs[len(m.obs)-1]
}

// logBuffer collects the JSON lines a zap core writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines decodes every JSON line written so far.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// accessLines are the access log's lines ("request").
func (b *logBuffer) accessLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range b.lines(t) {
		if l["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

type mwServer struct {
	h       http.Handler
	logs    *logBuffer
	metrics *mwMetrics
}

// newMWServer builds the whole edge with a bearer authenticator accepting
// mwToken, a JSON logger at level, and these routes: a protected
// /api/v1/things/:id, a public webhook catch-all, a handler that panics.
func newMWServer(t *testing.T, level zapcore.Level, st Settings) mwServer {
	t.Helper()
	chain := &authn.Chain{Bearer: authn.AuthenticatorFunc(func(_ context.Context, c authn.Credential, _ principal.Client) (principal.Principal, error) {
		if c.Secret != mwToken {
			return principal.Principal{}, domain.ErrUnauthenticated
		}
		return principal.Principal{
			UserID: "user-42", Username: "ada", Role: user.RoleAdmin, Method: principal.MethodJWT,
			Permissions: user.RoleAdmin.Permissions(),
		}, nil
	})}
	routes := Routes{
		{Method: http.MethodGet, Path: "/api/v1/things/:id", AnyAuthenticated: true, Handler: func(c echo.Context) error {
			return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")})
		}},
		{Method: http.MethodPost, Path: "/webhook/*", Public: true, Handler: func(c echo.Context) error {
			return c.NoContent(http.StatusAccepted)
		}},
		{Method: http.MethodGet, Path: "/api/v1/boom", AnyAuthenticated: true, Handler: func(echo.Context) error {
			panic("handler exploded")
		}},
	}
	logs := &logBuffer{}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(logs), level))
	m := &mwMetrics{}
	srv, err := Build(st, log, chain, nil, m, nil, routes)
	if err != nil {
		t.Fatal(err)
	}
	return mwServer{h: srv.Handler(), logs: logs, metrics: m}
}

func (s mwServer) do(method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "192.0.2.10:5555"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

var generatedRequestID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestRequestIDIsKeptWhenPlainAndMadeOtherwise(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.InfoLevel, Settings{})
	long := strings.Repeat("a", 64)
	for _, id := range []string{"abc-123", "A.b_c:d-9", long, "0", "req:2025-06-01T12:00:00.123"} {
		rec := s.do(http.MethodGet, "/health", map[string]string{"X-Request-ID": id})
		if got := rec.Header().Get("X-Request-ID"); got != id {
			t.Errorf("plain id %q answered as %q", id, got)
		}
	}
	seen := map[string]bool{}
	for _, id := range []string{
		"", long + "a", "has space", "tab\there", "brace{}", "quote\"", "slash/", "plus+", "ünïcödé",
		"new\nline", "semi;colon", "comma,", "percent%41", "\x00nul",
	} {
		rec := s.do(http.MethodGet, "/health", map[string]string{"X-Request-ID": id})
		got := rec.Header().Get("X-Request-ID")
		if !generatedRequestID.MatchString(got) {
			t.Errorf("id %q: answered %q, want 24 fresh hex characters", id, got)
		}
		if seen[got] {
			t.Errorf("generated id %q twice", got)
		}
		seen[got] = true
	}
	// Many at once: generated ids never repeat.
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				got := s.do(http.MethodGet, "/health", nil).Header().Get("X-Request-ID")
				mu.Lock()
				if seen[got] || !generatedRequestID.MatchString(got) {
					t.Errorf("generated id %q repeated or malformed", got)
				}
				seen[got] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestRequestIDReachesTheEnvelopeAndTheAccessLine(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.InfoLevel, Settings{})
	for _, sent := range []string{"client-chosen-1", "bad id"} {
		rec := s.do(http.MethodGet, "/api/v1/things/x1", map[string]string{"X-Request-ID": sent})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", rec.Code)
		}
		rid := rec.Header().Get("X-Request-ID")
		var env Envelope
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		if env.RequestID != rid || rid == "" {
			t.Errorf("envelope requestId %q, header %q", env.RequestID, rid)
		}
		lines := s.logs.accessLines(t)
		if got := lines[len(lines)-1]["request_id"]; got != rid {
			t.Errorf("access line request_id %v, header %q", got, rid)
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for _, tls := range []bool{false, true} {
		st := Settings{}
		if tls {
			st.TLS = testTLSConfig()
		}
		s := newMWServer(t, zapcore.InfoLevel, st)
		for _, tc := range []struct {
			method, target string
			hdr            map[string]string
			status         int
			noStore        bool
		}{
			{http.MethodGet, "/health", nil, http.StatusOK, false},
			{http.MethodGet, "/nowhere", nil, http.StatusNotFound, true}, // error envelopes are never cached
			{http.MethodGet, "/api/v1/things/a", map[string]string{"Authorization": "Bearer " + mwToken}, http.StatusOK, true},
			{http.MethodGet, "/api/v1/things/a", nil, http.StatusUnauthorized, true},
			{http.MethodPost, "/webhook/x", nil, http.StatusAccepted, true},
			{http.MethodGet, "/webhook/x", nil, http.StatusMethodNotAllowed, true},
			{http.MethodOptions, "/health", nil, http.StatusNoContent, false},
			{http.MethodGet, "/api/v1/boom", map[string]string{"Authorization": "Bearer " + mwToken}, http.StatusInternalServerError, true},
		} {
			rec := s.do(tc.method, tc.target, tc.hdr)
			name := tc.method + " " + tc.target
			if rec.Code != tc.status {
				t.Errorf("%s: status %d, want %d", name, rec.Code, tc.status)
			}
			for k, v := range want {
				if got := rec.Header().Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s: %s = %q, want [%q]", name, k, got, v)
				}
			}
			if got := rec.Header().Get("Cache-Control"); (got == "no-store") != tc.noStore {
				t.Errorf("%s: Cache-Control %q, want no-store %v", name, got, tc.noStore)
			}
			hsts := rec.Header().Values("Strict-Transport-Security")
			if tls && (len(hsts) != 1 || hsts[0] != "max-age=63072000; includeSubDomains") {
				t.Errorf("%s over TLS: HSTS %q", name, hsts)
			}
			if !tls && len(hsts) != 0 {
				t.Errorf("%s without TLS: HSTS %q", name, hsts)
			}
		}
	}
}

func TestAccessLineFields(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.InfoLevel, Settings{})
	rec := s.do(http.MethodGet, "/api/v1/things/t-1?limit=5&access_token=tok-secret-1&X=y%20z", map[string]string{
		"Authorization": "Bearer " + mwToken, "User-Agent": "probe/1.0", "X-Request-ID": "rid-1",
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	lines := s.logs.accessLines(t)
	if len(lines) != 1 {
		t.Fatalf("%d access lines, want 1", len(lines))
	}
	l := lines[0]
	want := map[string]any{
		"level": "info", "request_id": "rid-1", "method": "GET", "route": "/api/v1/things/:id",
		"path": "/api/v1/things/t-1", "status": float64(200), "bytes_out": float64(rec.Body.Len()),
		"ip": "192.0.2.10", "user_agent": "probe/1.0", "query": "X=y+z&access_token=REDACTED&limit=5",
		"user_id": "user-42", "auth_method": "jwt",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %#v, want %#v", k, l[k], v)
		}
	}
	if lat, ok := l["latency"].(float64); !ok || lat < 0 {
		t.Errorf("latency %#v, want seconds ≥ 0", l["latency"])
	}
	if _, ok := l["headers"]; ok {
		t.Error("headers logged at info level")
	}
	if strings.Contains(s.logs.String(), "tok-secret-1") || strings.Contains(s.logs.String(), mwToken) {
		t.Error("a secret reached the log")
	}

	// Anonymous, unmatched, no query: no user fields, no query field.
	s.do(http.MethodGet, "/nowhere", nil)
	l = s.logs.accessLines(t)[1]
	for _, k := range []string{"user_id", "auth_method", "query"} {
		if _, ok := l[k]; ok {
			t.Errorf("anonymous line has %s = %v", k, l[k])
		}
	}
	if l["status"] != float64(404) || l["path"] != "/nowhere" {
		t.Errorf("404 line: %v", l)
	}
}

func TestAccessLineQueryRedaction(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.InfoLevel, Settings{})
	tests := []struct{ query, want string }{
		{"password=p1&user=u", "password=REDACTED&user=u"},
		{"SECRET=a&Api_Key=b&sig=c&cred=d&session_id=e&AUTH=f&token=g", "AUTH=REDACTED&Api_Key=REDACTED&SECRET=REDACTED&cred=REDACTED&session_id=REDACTED&sig=REDACTED&token=REDACTED"},
		{"a=1&a=2", "a=1&a=2"},
		{"bad=%zz", "[UNPARSEABLE]"},
		{"semi;colon=1", "[UNPARSEABLE]"},
	}
	for i, tc := range tests {
		s.do(http.MethodGet, "/health?"+tc.query, nil)
		l := s.logs.accessLines(t)[i]
		if l["query"] != tc.want {
			t.Errorf("query %q logged as %#v, want %q", tc.query, l["query"], tc.want)
		}
	}
}

func TestAccessLineHeadersAtDebug(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.DebugLevel, Settings{})
	s.do(http.MethodGet, "/api/v1/things/a?x=1", map[string]string{
		"Authorization": "Bearer " + mwToken, "Cookie": "m9m_session=cookie-secret", "X-Api-Key": "key-secret",
		"X-Session-Thing": "sess-secret", "User-Agent": "probe/2", "Accept": "application/json",
	})
	l := s.logs.accessLines(t)[0]
	h, ok := l["headers"].(map[string]any)
	if !ok {
		t.Fatalf("headers %#v", l["headers"])
	}
	want := map[string]any{
		"Authorization": "[REDACTED]", "Cookie": "[REDACTED]", "X-Api-Key": "[REDACTED]",
		"X-Session-Thing": "[REDACTED]", "User-Agent": "probe/2", "Accept": "application/json",
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header %s logged as %#v, want %#v", k, h[k], v)
		}
	}
	for _, secret := range []string{mwToken, "cookie-secret", "key-secret", "sess-secret"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("%q reached the log", secret)
		}
	}
}

// A webhook delivery's secrets are its owner's choice of header or query
// parameter: every answer's line scrubs them all.
func TestAccessLineScrubsWebhookRequests(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.DebugLevel, Settings{})
	hdr := map[string]string{"X-Sender-Id": "hook-secret-1", "User-Agent": "sender/1", "Content-Type": "application/json"}
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{http.MethodPost, "/webhook/a/b?state=query-secret-1", http.StatusAccepted},
		{http.MethodGet, "/webhook/a/b?state=query-secret-1", http.StatusMethodNotAllowed},
		{http.MethodPost, "/webhook?state=query-secret-1", http.StatusNotFound},
	} {
		if rec := s.do(tc.method, tc.target, hdr); rec.Code != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.target, rec.Code, tc.status)
		}
	}
	lines := s.logs.accessLines(t)
	if len(lines) != 3 {
		t.Fatalf("%d access lines", len(lines))
	}
	for _, l := range lines {
		if l["query"] != "[REDACTED]" {
			t.Errorf("%v: query %#v", l["path"], l["query"])
		}
		h, _ := l["headers"].(map[string]any)
		if h["X-Sender-Id"] != "[REDACTED]" || h["User-Agent"] != "sender/1" || h["Content-Type"] != "application/json" {
			t.Errorf("%v: headers %v", l["path"], h)
		}
	}
	for _, secret := range []string{"hook-secret-1", "query-secret-1"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("%q reached the log", secret)
		}
	}
}

func TestNoAccessLineAboveInfo(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.WarnLevel, Settings{})
	s.do(http.MethodGet, "/health", nil)
	s.do(http.MethodGet, "/api/v1/things/a", nil)
	if got := s.logs.accessLines(t); len(got) != 0 {
		t.Fatalf("access lines at warn: %v", got)
	}
	// The request still got its id, and a panic is still logged.
	if rec := s.do(http.MethodGet, "/api/v1/boom", map[string]string{"Authorization": "Bearer " + mwToken}); rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	var panics int
	for _, l := range s.logs.lines(t) {
		if l["msg"] == "panic recovered" && l["panic"] == "handler exploded" && l["request_id"] != "" {
			panics++
		}
	}
	if panics != 1 {
		t.Fatalf("panic lines %d, logs:\n%s", panics, s.logs)
	}
}

func TestMetricsLabelRouteTemplates(t *testing.T) {
	t.Parallel()
	s := newMWServer(t, zapcore.InfoLevel, Settings{})
	auth := map[string]string{"Authorization": "Bearer " + mwToken}
	for _, tc := range []struct {
		method, target string
		hdr            map[string]string
		want           string
	}{
		{http.MethodGet, "/health", nil, "GET /health 200"},
		{http.MethodGet, "/api/v1/things/abc", auth, "GET /api/v1/things/:id 200"},
		{http.MethodGet, "/api/v1/things/abc", nil, "GET /api/v1/things/:id 401"},
		{http.MethodPost, "/webhook/one/two", nil, "POST /webhook/* 202"},
		{http.MethodGet, "/api/v1/boom", auth, "GET /api/v1/boom 500"},
		{http.MethodGet, "/api/v1/no/such/route", auth, "GET /api/v1/* 404"},
		{"PROPFIND", "/health", nil, "PROPFIND /health 405"},
	} {
		s.do(tc.method, tc.target, tc.hdr)
		if got := s.metrics.last(); got != tc.want {
			t.Errorf("%s %s observed as %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
	// A path no route matches is never its own label.
	s.do(http.MethodGet, "/random-"+strconv.FormatInt(time.Now().UnixNano(), 36), nil)
	if got := s.metrics.last(); strings.Contains(got, "random-") {
		t.Errorf("unmatched path observed as %q", got)
	}
}

// testTLSConfig marks a server as serving HTTPS (Build only reads whether
// there is one, to add HSTS).
func testTLSConfig() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }

// Preset header values are shared by every answer: adding to one answer's
// header never shows in another's.
func TestPresetHeadersAreNotShared(t *testing.T) {
	t.Parallel()
	h1, h2 := http.Header{}, http.Header{}
	for _, p := range append(securityPresets, hstsPreset, noStorePreset, bearerChallenge) {
		p.set(h1)
		h1.Add(p.key, "extra")
		p.set(h2)
		if got := h2.Values(p.key); len(got) != 1 || got[0] != p.value[0] {
			t.Errorf("%s: %q after another answer added to it", p.key, got)
		}
		if len(p.value) != 1 || cap(p.value) != 1 {
			t.Errorf("%s: preset value len %d cap %d", p.key, len(p.value), cap(p.value))
		}
	}
}
