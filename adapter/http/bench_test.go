package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
)

// These benchmarks run the whole middleware stack in process (request ID,
// access log, metrics hook, recover, security headers, body limit, the
// guard's authentication, rate limiting and authorization, the error
// envelope) with no network and no Redis: what the edge itself costs per
// request, in time and allocations. /health is the floor; /api/v1/auth/me is
// the real handler behind a fake authenticator, so the difference is the
// price of the guard and a protected answer.
//
//	go test -run '^$' -bench Stack -benchmem ./adapter/http/
//	go test -run '^$' -bench Stack/me -cpuprofile cpu.out ./adapter/http/

// benchToken is what the fake authenticator accepts; any other bearer is 401.
const benchToken = "bench-token"

// allowAll is a rate limiter that always allows, as the real one does
// under a budget too large to trip, and reports a decision so the
// X-RateLimit-* headers are written as in production.
type allowAll struct{}

func (allowAll) Allow(context.Context, string) (port.RateDecision, error) {
	return port.RateDecision{Allowed: true, Limit: 1_000_000, Remaining: 999_999, ResetAfter: time.Second}, nil
}

// benchPrincipal is the admin a login produces.
var benchPrincipal = principal.Principal{
	UserID: "9a1b2c3d4e5f60718293a4b5c6d7e8f9", Username: "admin", Role: user.RoleAdmin,
	Method: principal.MethodJWT, Permissions: user.RoleAdmin.Permissions(),
	SessionID: "5f0c8e2a9b7d4c1e8a3f6b2d9c0e1a47", TokenID: "0123456789abcdef0123456789abcdef",
}

// benchLogger writes JSON to nowhere at level, like the server's logger.
func benchLogger(level zapcore.Level) *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(io.Discard), level))
}

func newBenchStack(b *testing.B, level zapcore.Level) http.Handler {
	b.Helper()
	bearer := authn.AuthenticatorFunc(func(_ context.Context, c authn.Credential, _ principal.Client) (principal.Principal, error) {
		if c.Secret != benchToken {
			return principal.Principal{}, domain.ErrUnauthenticated
		}
		return benchPrincipal, nil
	})
	chain := &authn.Chain{Bearer: bearer}
	routes := httpapi.AuthRoutes(auth.New(auth.Deps{}, auth.Settings{}), chain, false)
	srv, err := httpapi.Build(httpapi.Settings{}, benchLogger(level), chain, allowAll{}, nil, nil, routes)
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler()
}

// serveLoop sends req through h b.N times and fails on any other status
// than want. The request is reused (the stack does not change it); each
// iteration gets a fresh recorder, whose allocations are counted too.
func serveLoop(b *testing.B, h http.Handler, req *http.Request, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

func benchRequest(path, bearer string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("User-Agent", "m9m-load/1")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

// BenchmarkStack compares, at the bench server's log level (warn: no access
// line written) and at the default one (info: one JSON line per request):
// the public floor, an authenticated /me, and a refused /me.
func BenchmarkStack(b *testing.B) {
	for _, lv := range []struct {
		name  string
		level zapcore.Level
	}{{"log=warn", zapcore.WarnLevel}, {"log=info", zapcore.InfoLevel}} {
		h := newBenchStack(b, lv.level)
		b.Run(lv.name+"/health", func(b *testing.B) {
			serveLoop(b, h, benchRequest("/health", ""), http.StatusOK)
		})
		b.Run(lv.name+"/me", func(b *testing.B) {
			serveLoop(b, h, benchRequest("/api/v1/auth/me", benchToken), http.StatusOK)
		})
		b.Run(lv.name+"/me-unauthenticated", func(b *testing.B) {
			serveLoop(b, h, benchRequest("/api/v1/auth/me", "not-the-token"), http.StatusUnauthorized)
		})
	}
}

// BenchmarkStackParallel is the authenticated /me from every P at once, to
// expose contention (shared locks, pools) that a serial loop hides.
func BenchmarkStackParallel(b *testing.B) {
	h := newBenchStack(b, zapcore.WarnLevel)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest("/api/v1/auth/me", benchToken)
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}
