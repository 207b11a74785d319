package e2e_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/tlsreload"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// Helpers of the edge tests (rate limiting, client IP, CORS, TLS, metrics)
// are prefixed "edge".

const edgeMe = "/api/v1/auth/me"

// edgeRateLimit turns the request rate limit on with a budget that does not
// refill during a test (one request a minute) and the given burst.
func edgeRateLimit(burst int) harness.Option {
	return harness.WithConfig(func(c *config.Config) {
		c.Performance.RateLimit = config.RateLimitConfig{Enabled: true, RequestsPerMinute: 1, Burst: burst}
	})
}

func edgeInt(t *testing.T, h http.Header, name string) int {
	t.Helper()
	v := h.Get(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s = %q, want an integer", name, v)
	}
	return n
}

func TestEdgeRateLimitBudgetHeadersAnd429(t *testing.T) {
	t.Parallel()
	const burst = 3
	s := harness.Start(t, edgeRateLimit(burst))
	token := s.AdminToken(t) // spends one unit of 127.0.0.1's budget, not the admin's
	for i := range burst {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token})
		if r.Status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.Status, r.Body)
		}
		if got := edgeInt(t, r.Header, "X-RateLimit-Limit"); got != 1 {
			t.Errorf("X-RateLimit-Limit %d, want 1 (requests per minute)", got)
		}
		if got := edgeInt(t, r.Header, "X-RateLimit-Remaining"); got != burst-1-i {
			t.Errorf("request %d: X-RateLimit-Remaining %d, want %d", i+1, got, burst-1-i)
		}
		// The budget is full again (i+1) minutes after the burst.
		if got := edgeInt(t, r.Header, "X-RateLimit-Reset"); got < 60*(i+1)-2 || got > 60*(i+1) {
			t.Errorf("request %d: X-RateLimit-Reset %d, want about %d", i+1, got, 60*(i+1))
		}
	}
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token})
	if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" {
		t.Fatalf("request after the burst: %d %s", r.Status, r.Body)
	}
	if got := edgeInt(t, r.Header, "Retry-After"); got < 58 || got > 60 {
		t.Errorf("Retry-After %d, want about 60 (60/rpm s)", got)
	}
	if got := edgeInt(t, r.Header, "X-RateLimit-Remaining"); got != 0 {
		t.Errorf("429 X-RateLimit-Remaining %d, want 0", got)
	}

	// /health and /ready are never limited, and carry no budget headers.
	for range 2 * burst {
		for _, p := range []string{"/health", "/ready"} {
			r := s.Do(t, harness.Req{Method: http.MethodGet, Path: p})
			if r.Status != http.StatusOK || r.Header.Get("X-RateLimit-Limit") != "" {
				t.Fatalf("%s: %d, X-RateLimit-Limit %q", p, r.Status, r.Header.Get("X-RateLimit-Limit"))
			}
		}
	}

	// Anonymous callers spend their IP's budget (the login above took one);
	// over budget they get 429 before their credentials are judged, so they
	// cannot probe at full speed.
	for i := range burst - 1 {
		if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe}); r.Status != http.StatusUnauthorized || r.Header.Get("X-RateLimit-Limit") != "1" {
			t.Fatalf("anonymous request %d: %d, X-RateLimit-Limit %q", i+1, r.Status, r.Header.Get("X-RateLimit-Limit"))
		}
	}
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("anonymous request after the IP's burst: %d", r.Status)
	}
}

func TestEdgeInstancesShareOneBudget(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "one rate budget shared by two instances through Redis")
	const burst = 4
	a := harness.Start(t, edgeRateLimit(burst))
	b := harness.Start(t, harness.SharedWith(a))
	token := a.AdminToken(t)
	ok, limited := 0, 0
	for i := range 2 * burst {
		s := a
		if i%2 == 1 {
			s = b
		}
		switch r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token}); r.Status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if ok != burst || limited != burst {
		t.Fatalf("two instances let %d requests through and limited %d, want %d and %d (one budget)", ok, limited, burst, burst)
	}
}

// A client that forges X-Forwarded-For or X-Real-IP does not get a new
// budget: the peer (127.0.0.1 here) is not a trusted proxy.
func TestEdgeSpoofedForwardingHeadersShareOneBudget(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, edgeRateLimit(2))
	statuses := make([]int, 0, 4)
	for _, h := range []map[string]string{
		{"X-Forwarded-For": "198.51.100.1"},
		{"X-Forwarded-For": "198.51.100.2"},
		{"X-Real-IP": "198.51.100.3"},
		{"X-Forwarded-For": "198.51.100.4, 198.51.100.5"},
	} {
		statuses = append(statuses, s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Headers: h}).Status)
	}
	if want := []int{401, 401, 429, 429}; !equalInts(statuses, want) {
		t.Fatalf("statuses %v, want %v: forged forwarding headers bought a new budget", statuses, want)
	}

	// Behind a trusted proxy (127.0.0.1 is one here) each forwarded client
	// has its own budget.
	p := harness.Start(t, edgeRateLimit(1), harness.WithConfig(func(c *config.Config) {
		c.Server.TrustedProxies = []string{"127.0.0.1"}
	}))
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if r := p.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Headers: map[string]string{"X-Forwarded-For": ip}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("forwarded client %s: %d", ip, r.Status)
		}
	}
	if r := p.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Headers: map[string]string{"X-Forwarded-For": "198.51.100.1"}}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("forwarded client over its budget: %d", r.Status)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// With Redis unreachable: rate limiting fails open (logged and counted),
// basic auth keeps working, a JWT is refused with 503 (fail closed), and
// /ready names Redis.
func TestEdgeRedisDown(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "an instance whose Redis is unreachable")
	const basicUser, basicPass = "ops", "a-long-basic-password"
	withBasic := harness.WithConfig(func(c *config.Config) {
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: basicUser, Password: basicPass}
	})
	healthy := harness.Start(t, withBasic)
	token := healthy.AdminToken(t)
	var ms *metrics.Server
	down := harness.Start(t, harness.SharedWith(healthy), edgeRateLimit(1), edgeMetrics(), harness.WithFx(fx.Populate(&ms)),
		harness.WithConfig(func(c *config.Config) { c.Redis.URL = "redis://127.0.0.1:1/0" }))

	for i := range 3 { // well over the burst of 1: the limiter is not consulted
		r := down.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Basic: [2]string{basicUser, basicPass}})
		if r.Status != http.StatusOK {
			t.Fatalf("basic request %d with Redis down: %d %s", i+1, r.Status, r.Body)
		}
		if r.Header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("budget headers without a budget: %q", r.Header.Get("X-RateLimit-Limit"))
		}
	}
	if !strings.Contains(down.Logs(), "rate limiter unavailable") {
		t.Error("the limiter's failure was not logged")
	}
	if r := down.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token}); r.Status != http.StatusServiceUnavailable {
		t.Errorf("JWT with Redis down: %d %s, want 503 (fail closed)", r.Status, r.Body)
	}
	r := down.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"})
	if r.Status != http.StatusServiceUnavailable || r.Map(t)["checks"].(map[string]any)["redis"] != "unavailable" {
		t.Errorf("/ready with Redis down: %d %s", r.Status, r.Body)
	}
	out := edgeScrape(t, ms)
	for _, want := range []string{
		`m9m_rate_limiter_errors_total 3`,
		`m9m_http_unavailable_total{route="/api/v1/auth/me"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if leaked := harness.ContainsAny(down.Logs()+out, token, basicPass, down.Config.Security.JWT.Secret); len(leaked) > 0 {
		t.Errorf("secrets in logs or metrics: %d found", len(leaked))
	}
}

func TestEdgeCORS(t *testing.T) {
	t.Parallel()
	const origin = "https://app.example.com"
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Security.CORS.Enabled = true
		c.Security.CORS.AllowedOrigins = []string{origin}
		c.Security.CORS.AllowCredentials = true
		c.Security.CORS.MaxAge = 600
	}))
	token := s.AdminToken(t)
	preflight := func(o string) *harness.Response {
		return s.DoRaw(t, harness.Req{Method: http.MethodOptions, Path: "/api/v1/workflows", Headers: map[string]string{
			"Origin": o, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type",
		}})
	}

	r := preflight(origin)
	if r.Status != http.StatusNoContent {
		t.Fatalf("preflight of a protected route without credentials: %d %s", r.Status, r.Body)
	}
	for h, want := range map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Max-Age":           "600",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("preflight %s = %q, want %q", h, got, want)
		}
	}
	if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
		t.Errorf("Access-Control-Allow-Methods %q lacks POST", m)
	}
	if !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("Vary %q lacks Origin", r.Header.Values("Vary"))
	}

	r = preflight("https://evil.example.net")
	if r.Status != http.StatusNoContent || edgeHasCORS(r.Header) {
		t.Errorf("refused origin's preflight: %d %v", r.Status, r.Header)
	}

	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token, Headers: map[string]string{"Origin": origin}})
	if r.Status != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != origin || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("allowed origin's request: %d, headers %v", r.Status, r.Header)
	}
	if !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
		t.Errorf("Access-Control-Expose-Headers %q", r.Header.Get("Access-Control-Expose-Headers"))
	}
	// An error answer is readable by the allowed origin too.
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Headers: map[string]string{"Origin": origin}}); r.Status != http.StatusUnauthorized || r.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("allowed origin's 401: %d, Allow-Origin %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}
	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token, Headers: map[string]string{"Origin": "https://evil.example.net"}})
	if r.Status != http.StatusOK || edgeHasCORS(r.Header) {
		t.Errorf("refused origin's request: %d, headers %v", r.Status, r.Header)
	}
}

// With CORS off, OPTIONS still needs no credentials and answers 204.
func TestEdgeOptionsWithoutCORS(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	r := s.DoRaw(t, harness.Req{Method: http.MethodOptions, Path: "/api/v1/workflows", Headers: map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
	}})
	if r.Status != http.StatusNoContent || edgeHasCORS(r.Header) {
		t.Fatalf("OPTIONS without CORS: %d %v", r.Status, r.Header)
	}
	if r := s.DoRaw(t, harness.Req{Method: http.MethodOptions, Path: "/health"}); r.Status != http.StatusNoContent || !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Errorf("OPTIONS /health: %d, Allow %q", r.Status, r.Header.Get("Allow"))
	}
}

func TestEdgeCORSWildcardWithCredentialsStopsStart(t *testing.T) {
	t.Parallel()
	cfg := harness.TestConfig(t)
	cfg.Security.CORS = config.CORSConfig{Enabled: true, AllowedOrigins: []string{"*"}, AllowCredentials: true}
	if err := fx.New(app.Options(cfg), fx.NopLogger).Err(); err == nil {
		t.Fatal(`the app was built with origin "*" and allow_credentials`)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "security.cors") {
		t.Errorf("Validate: %v, want an error naming security.cors", err)
	}
}

func edgeHasCORS(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			return true
		}
	}
	return false
}

// edgeHTTPS sends GET path over a new TLS connection limited to maxVersion
// (0: any) and returns the answer and the serial of the served certificate.
func edgeHTTPS(t *testing.T, addr, path string, maxVersion uint16) (*http.Response, int64, error) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion}, //nolint:gosec // self-signed test certificate; the serial is checked instead
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp, resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
}

func TestEdgeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	testenv.WriteCertPair(t, certFile, keyFile, 1001)
	clock := memory.NewClock(time.Now().UTC())
	s := harness.Start(t, harness.WithClock(clock), harness.WithConfig(func(c *config.Config) {
		c.Server.TLS = config.TLSConfig{Enabled: true, CertFile: certFile, KeyFile: keyFile, MinVersion: "1.2"}
	}))
	addr := s.HTTP().Addr()

	resp, serial, err := edgeHTTPS(t, addr, "/health", 0)
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	if resp.StatusCode != http.StatusOK || serial != 1001 {
		t.Fatalf("HTTPS /health: %d, certificate serial %d", resp.StatusCode, serial)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security %q", hsts)
	}
	if resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("negotiated TLS version %x", resp.TLS.Version)
	}
	if _, _, err := edgeHTTPS(t, addr, "/health", tls.VersionTLS11); err == nil {
		t.Error("a TLS 1.1 client was served")
	}

	// The certificate is renewed on disk: served without a restart once the
	// next check is due.
	testenv.WriteCertPair(t, certFile, keyFile, 1002)
	clock.Advance(2 * tlsreload.CheckInterval)
	if _, serial, err = edgeHTTPS(t, addr, "/health", 0); err != nil || serial != 1002 {
		t.Fatalf("after renewal: serial %d, %v; want 1002", serial, err)
	}
}

func edgeMetrics() harness.Option {
	return harness.WithConfig(func(c *config.Config) {
		c.Monitoring.Metrics = config.MetricsConfig{Enabled: true, Listen: "127.0.0.1:0", Path: "/metrics"}
	})
}

func edgeScrape(t *testing.T, ms *metrics.Server) string {
	t.Helper()
	if ms == nil {
		t.Fatal("no metrics server")
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+ms.Addr()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

func TestEdgeMetrics(t *testing.T) {
	t.Parallel()
	var ms *metrics.Server
	s := harness.Start(t, edgeMetrics(), edgeRateLimit(3), harness.WithFx(fx.Populate(&ms)))
	// Budgets (burst 3): the IP pays for logins and failed authentications
	// (login, revoked token, login), the admin for authenticated requests
	// (logout, two reads, then a 429).
	other := s.AdminToken(t)
	if r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: other}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: other}); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.Status)
	}
	token := s.AdminToken(t)
	for i := range 2 {
		if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token}); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.Status)
		}
	}
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: edgeMe, Bearer: token}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("want a 429, got %d", r.Status)
	}

	out := edgeScrape(t, ms)
	for _, want := range []string{
		`m9m_auth_attempts_total{method="jwt",outcome="success"}`,
		`m9m_auth_attempts_total{method="jwt",outcome="failure"} 1`,
		`m9m_rate_limited_total{route="/api/v1/auth/me"} 1`,
		`m9m_token_revocation_hits_total 1`,
		`m9m_rate_limiter_errors_total 0`,
		`m9m_dependency_errors_total{dependency="redis"} 0`,
		`m9m_http_request_duration_seconds_count{method="GET",route="/api/v1/auth/me",status="2xx"} 2`,
		`m9m_http_request_duration_seconds_count{method="GET",route="/api/v1/auth/me",status="4xx"} 2`,
		`m9m_http_request_duration_seconds_count{method="POST",route="/api/v1/auth/login",status="2xx"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if leaked := harness.ContainsAny(out, token, other, s.AdminPassword(), s.Config.Security.JWT.Secret); len(leaked) > 0 {
		t.Error("a secret appears in the metrics")
	}
	if !harness.Embedded() {
		// The instance follows the revocation feed: loaded once, at start,
		// and fresh (it judges tokens in process) within a moment.
		if !strings.Contains(out, `m9m_revocation_feed_loads_total{cause="start"} 1`) {
			t.Errorf("metrics lack the follower's start load")
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(edgeScrape(t, ms), "m9m_revocation_feed_fresh 1") {
			if time.Now().After(deadline) {
				t.Fatal("m9m_revocation_feed_fresh never 1")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The metrics are not on the API's port.
	if r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/metrics"}); r.Status == http.StatusOK {
		t.Error("metrics served on the public listener")
	}
}
