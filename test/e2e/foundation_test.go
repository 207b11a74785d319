package e2e_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"go.uber.org/fx"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)

	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/health"})
	if r.Status != http.StatusOK || r.Map(t)["status"] != "ok" {
		t.Fatalf("/health = %d %s", r.Status, r.Body)
	}
	for _, h := range []string{"X-Request-ID", "X-Content-Type-Options", "X-Frame-Options"} {
		if r.Header.Get(h) == "" {
			t.Errorf("/health lacks %s", h)
		}
	}

	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"})
	if r.Status != http.StatusOK {
		t.Fatalf("/ready = %d %s", r.Status, r.Body)
	}
	checks := r.Map(t)["checks"].(map[string]any)
	if !s.ReadyOK(checks) {
		t.Fatalf("/ready checks = %v, want %v ok", checks, s.ReadyChecks())
	}
}

func TestOpenAPIDocumentIsServedAndValid(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/openapi.yaml"})
	if r.Status != http.StatusOK {
		t.Fatalf("openapi = %d", r.Status)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("served document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served document is invalid: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi version = %q, want 3.1.x", doc.OpenAPI)
	}
	for _, p := range []string{"/health", "/ready", "/api/v1/openapi.yaml"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("document lacks %s", p)
		}
	}
}

func TestErrorEnvelopes(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	cases := []struct {
		name   string
		req    harness.Req
		status int
		code   string
	}{
		{"unknown route", harness.Req{Method: http.MethodGet, Path: "/nope"}, 404, "NOT_FOUND"},
		{"wrong method", harness.Req{Method: http.MethodDelete, Path: "/health"}, 405, "METHOD_NOT_ALLOWED"},
		{"unknown api route, anonymous", harness.Req{Method: http.MethodGet, Path: "/api/v1/nope"}, 401, "AUTH_REQUIRED"},
		{"garbage bearer", harness.Req{Method: http.MethodGet, Path: "/api/v1/nope", Bearer: "not-a-jwt"}, 401, "AUTH_REQUIRED"},
		{"bearer with spaces", harness.Req{Method: http.MethodGet, Path: "/api/v1/nope", Headers: map[string]string{"Authorization": "Bearer a b"}}, 401, "AUTH_REQUIRED"},
		{"unknown scheme", harness.Req{Method: http.MethodGet, Path: "/api/v1/nope", Headers: map[string]string{"Authorization": "Digest x"}}, 401, "AUTH_REQUIRED"},
		{"declared body too large", harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: strings.Repeat("x", 2<<20)}, 413, "PAYLOAD_TOO_LARGE"},
		{"NUL in path", harness.Req{Method: http.MethodGet, Path: "/api/v1/%00"}, 401, "AUTH_REQUIRED"},
		{"huge header", harness.Req{Method: http.MethodGet, Path: "/api/v1/x", Headers: map[string]string{"X-Junk": strings.Repeat("a", 64<<10)}}, 401, "AUTH_REQUIRED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.DoRaw(t, tc.req)
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
			if tc.status == 401 && !strings.Contains(r.Header.Get("WWW-Authenticate"), `Bearer realm="m9m"`) {
				t.Errorf("401 challenge = %q", r.Header.Get("WWW-Authenticate"))
			}
			if tc.status == 401 && strings.Contains(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("Basic challenge offered while basic auth is disabled")
			}
		})
	}
}

func TestRequestIDIsEchoedOnlyWhenSafe(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/health", Headers: map[string]string{"X-Request-ID": "abc-123"}})
	if got := r.Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("safe request id not echoed: %q", got)
	}
	r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/health", Headers: map[string]string{"X-Request-ID": "evil\tvalue with spaces{}"}})
	if got := r.Header.Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \t{}") {
		t.Errorf("unsafe request id echoed: %q", got)
	}
}

func TestPanicBecomes500Envelope(t *testing.T) {
	t.Parallel()
	panicky := func() httpapi.Routes {
		return httpapi.Routes{{Method: http.MethodGet, Path: "/test/panic", Public: true, Handler: func(echo.Context) error {
			panic("boom: secret-value-should-not-leak")
		}}}
	}
	s := harness.Start(t, harness.WithFx(fx.Provide(fx.Annotate(panicky, fx.ResultTags(`group:"routes"`)))))
	r := s.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/test/panic"})
	if r.Status != http.StatusInternalServerError || r.Code() != "INTERNAL_ERROR" {
		t.Fatalf("panic answered %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), "secret-value") || strings.Contains(string(r.Body), "boom") {
		t.Errorf("panic detail leaked to the client: %s", r.Body)
	}
	if h := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/health"}); h.Status != http.StatusOK {
		t.Fatalf("server not serving after a panic: %d", h.Status)
	}
}

func TestMalformedHTTPIsRefusedAndServerSurvives(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	addr := strings.TrimPrefix(s.URL, "http://")
	for _, raw := range []string{
		"GARBAGE\r\n\r\n",
		"GET / HTTP/9.9\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
		"\x00\x01\x02\r\n\r\n",
	} {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = conn.Write([]byte(raw))
		line, err := bufio.NewReader(conn).ReadString('\n')
		_ = conn.Close()
		// Go's server answers protocol-level garbage itself (plain text, before
		// any handler runs): 400, or 505 for an unknown HTTP version.
		if ok := strings.HasPrefix(line, "HTTP/1.1 4") || strings.HasPrefix(line, "HTTP/1.1 505"); err != nil || !ok {
			t.Errorf("%q answered %q (%v), want a 4xx/505 status line", raw, line, err)
		}
	}
	if h := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/health"}); h.Status != http.StatusOK {
		t.Fatalf("server not serving after malformed requests: %d", h.Status)
	}
}

func TestReadyNamesRedisWhileItIsDownAndRecovers(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "Redis going down and back")
	proxy := testenv.StartProxy(t, redisAddr(t))
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Redis.URL = "redis://" + proxy.Addr + "/0"
	}))
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"}); r.Status != http.StatusOK {
		t.Fatalf("/ready before outage = %d %s", r.Status, r.Body)
	}

	proxy.SetDown(true)
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"})
	if r.Status != http.StatusServiceUnavailable || r.Code() != "SERVICE_UNAVAILABLE" {
		t.Fatalf("/ready during outage = %d %s", r.Status, r.Body)
	}
	checks := r.Map(t)["checks"].(map[string]any)
	if checks["redis"] != "unavailable" || checks["postgres"] != "ok" {
		t.Fatalf("checks during outage = %v", checks)
	}
	if strings.Contains(string(r.Body), proxy.Addr) || strings.Contains(string(r.Body), "redis://") {
		t.Errorf("/ready leaks the Redis address: %s", r.Body)
	}

	proxy.SetDown(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = s.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"})
		if r.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ready did not recover: %d %s", r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
