package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// BenchmarkLoginLatency measures login with the production hash cost
// (security.password_hash defaults: argon2id m=19 MiB, t=2, p=1) and, with
// the same hasher, one password verification alone, so that hashing's share
// of a login can be read off: p50 of each is reported. Each login comes from
// its own client IP (a trusted proxy's X-Forwarded-For) so that the per-IP
// throttle counter, which every attempt spends, is not what is measured.
//
//	go test -run '^$' -bench LoginLatency -benchtime 200x ./test/e2e/
func BenchmarkLoginLatency(b *testing.B) {
	defaults := config.Default().Security.PasswordHash
	s := harness.Start(b, harness.WithConfig(func(c *config.Config) {
		c.Security.PasswordHash = defaults
		c.Server.TrustedProxies = []string{"127.0.0.1/32"}
	}))
	admin := s.AdminToken(b)
	_, name, pw := s.CreateUser(b, admin, "viewer")
	login := func(i int) time.Duration {
		req := idLoginReq(name, pw)
		req.Headers = map[string]string{"X-Forwarded-For": fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
		start := time.Now()
		r := s.DoRaw(b, req)
		d := time.Since(start)
		if r.Status != http.StatusOK {
			b.Fatalf("login: %d %s", r.Status, r.Body)
		}
		return d
	}
	login(-1) // warm up connections and the hasher's dummy
	hasher := app.NewPasswordHasher(defaults)
	hash, err := hasher.Hash(context.Background(), pw)
	if err != nil {
		b.Fatal(err)
	}
	logins := make([]time.Duration, 0, b.N)
	hashes := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	// Two phases, so that the server's background work after a login
	// (audit batch, access log) does not land inside a hash measurement.
	for i := range b.N {
		logins = append(logins, login(i))
	}
	for range b.N {
		start := time.Now()
		if ok, _, err := hasher.Verify(context.Background(), pw, hash); err != nil || !ok {
			b.Fatalf("verify: %v %v", ok, err)
		}
		hashes = append(hashes, time.Since(start))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) time.Duration {
		slices.Sort(d)
		return d[len(d)/2]
	}
	lp, hp := p50(logins), p50(hashes)
	b.ReportMetric(float64(lp.Microseconds())/1000, "login-p50-ms")
	b.ReportMetric(float64(hp.Microseconds())/1000, "hash-p50-ms")
	b.ReportMetric(float64(lp-hp)/float64(time.Millisecond), "rest-p50-ms")
	b.ReportMetric(100*float64(hp)/float64(lp), "hash-share-%")
}

// BenchmarkMeVsHealth serves GET /health and a JWT-authenticated GET
// /api/v1/auth/me through the real router in process, 16 goroutines per
// CPU in flight (no sockets, so the comparison is the work of the request
// itself): /me adds the token
// verification and its one Redis round trip. /me's throughput as a fraction
// of /health's is health ns/op ÷ me ns/op.
//
//	go test -run '^$' -bench MeVsHealth -benchtime 3s ./test/e2e/
func BenchmarkMeVsHealth(b *testing.B) {
	s := harness.Start(b)
	token := s.AdminToken(b)
	h := s.HTTP().Handler()
	for _, tc := range []struct{ name, path, authz string }{
		{"health", "/health", ""},
		{"me", "/api/v1/auth/me", "Bearer " + token},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16) // many requests in flight, as under load
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, tc.path, nil)
					if tc.authz != "" {
						req.Header.Set("Authorization", tc.authz)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("%s: %d %s", tc.path, rec.Code, rec.Body)
						return
					}
				}
			})
		})
	}
}
