package metrics_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
)

var _ httpapi.Metrics = (*metrics.Metrics)(nil)

func scrape(t *testing.T, m *metrics.Metrics, path string) string {
	t.Helper()
	srv := metrics.NewServer("127.0.0.1:0", path, m, zap.NewNop())
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+srv.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSeries(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.AuthAttempt("jwt", "success")
	m.AuthAttempt("jwt", "success")
	m.AuthAttempt("api_key", "failure")
	m.RateLimited("/api/v1/workflows/:id")
	m.RateLimitError()
	m.RevocationHit()
	m.DependencyError(metrics.DependencyPostgres)
	m.ObserveRequest("GET", "/api/v1/workflows/:id", 200, 0.003)
	m.ObserveRequest("GET", "/api/v1/workflows/:id", 503, 0.2)
	m.ObserveRequest("BREW", "", 404, 0.001)
	out := scrape(t, m, "/metrics")
	want := []string{
		`m9m_auth_attempts_total{method="jwt",outcome="success"} 2`,
		`m9m_auth_attempts_total{method="api_key",outcome="failure"} 1`,
		`m9m_rate_limited_total{route="/api/v1/workflows/:id"} 1`,
		`m9m_rate_limiter_errors_total 1`,
		`m9m_token_revocation_hits_total 1`,
		`m9m_dependency_errors_total{dependency="redis"} 1`,
		`m9m_dependency_errors_total{dependency="postgres"} 1`,
		`m9m_http_unavailable_total{route="/api/v1/workflows/:id"} 1`,
		`m9m_http_request_duration_seconds_count{method="GET",route="/api/v1/workflows/:id",status="2xx"} 1`,
		`m9m_http_request_duration_seconds_count{method="GET",route="/api/v1/workflows/:id",status="5xx"} 1`,
		`m9m_http_request_duration_seconds_count{method="OTHER",route="unmatched",status="4xx"} 1`,
		`go_goroutines `,
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("scrape lacks %q", w)
		}
	}
	if strings.Contains(out, "BREW") {
		t.Error("a client-chosen method became a label value")
	}
}

func TestServerServesOnlyItsPath(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	srv := metrics.NewServer("127.0.0.1:0", "/internal/metrics", m, zap.NewNop())
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Stop(context.Background()) }()
	for path, want := range map[string]int{"/metrics": 404, "/internal/metrics": 200, "/": 404} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+srv.Addr()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestServerStartFailsOnBusyAddress(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	a := metrics.NewServer("127.0.0.1:0", "/metrics", m, zap.NewNop())
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Stop(context.Background()) }()
	b := metrics.NewServer(a.Addr(), "/metrics", m, zap.NewNop())
	if err := b.Start(context.Background()); err == nil {
		_ = b.Stop(context.Background())
		t.Fatal("second listener on a busy address started")
	}
}

func TestCountingDenylist(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC))
	m := metrics.New()
	d := metrics.CountingDenylist{TokenDenylist: memory.NewDenylist(clock), Metrics: m}
	ctx := context.Background()
	claims := session.Claims{UserID: "u1", SessionID: "s1", TokenID: "j1", IssuedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
	if err := d.Check(ctx, claims); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if err := d.DenyToken(ctx, "j1", clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctx, claims); domain.KindOf(err) != domain.KindUnauthenticated {
		t.Fatalf("revoked token: %v", err)
	}
	out := scrape(t, m, "/metrics")
	if !strings.Contains(out, "m9m_token_revocation_hits_total 1") {
		t.Errorf("revocation hit not counted:\n%s", grep(out, "revocation"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.AuthAttempt("jwt", "success")
	m.RateLimited("/x")
	m.RateLimitError()
	m.RevocationHit()
	m.DependencyError(metrics.DependencyRedis)
	m.ObserveRequest("GET", "/x", 200, 0.1)
}
