package e2e_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/m9m/auth/test/harness"
)

// BenchmarkAuthPaths measures, in one run against one instance, requests
// per second of GET /health (no authentication), and of GET /api/v1/auth/me
// authenticated by a JWT (one Redis round trip) and by an API key (one
// indexed Postgres query, no write). Compare the ns/op of the sub-benchmarks:
// the API-key path's throughput as a fraction of /health's is
// health ns/op ÷ api_key ns/op.
//
//	go test -run '^$' -bench AuthPaths -benchtime 3s ./test/e2e/
func BenchmarkAuthPaths(b *testing.B) {
	s := harness.Start(b)
	admin := s.AdminToken(b)
	key := akCreateTB(b, s, admin)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	paths := []struct {
		name   string
		path   string
		header string
		value  string
	}{
		{"health", "/health", "", ""},
		{"jwt", "/api/v1/auth/me", "Authorization", "Bearer " + admin},
		{"api_key", "/api/v1/auth/me", "X-API-Key", key},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, s.URL+p.path, nil)
					if p.header != "" {
						req.Header.Set(p.header, p.value)
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("%s: %d", p.name, resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

func akCreateTB(b *testing.B, s *harness.Server, token string) string {
	b.Helper()
	r := s.Do(b, harness.Req{Method: http.MethodPost, Path: akPath, Bearer: token, Body: map[string]any{"name": "bench"}})
	if r.Status != http.StatusCreated {
		b.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	var out akIssued
	r.JSON(b, &out)
	return out.Key
}
