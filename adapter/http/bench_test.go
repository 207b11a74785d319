package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/test/testenv"
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
// iteration gets a fresh benchWriter (a new header map, as net/http gives
// every request), whose allocations are counted too. Besides ns/op it
// reports cpu-ns/op, the process's CPU time per request (GC included),
// which other work on a shared machine disturbs far less than wall time.
func serveLoop(b *testing.B, h http.Handler, req *http.Request, want int) {
	b.Helper()
	b.ReportAllocs()
	w := &benchWriter{}
	cpu := testenv.StartCPU(b)
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if w.code != want {
			b.Fatalf("status %d, want %d: %s", w.code, want, w.body)
		}
	}
	cpu.Report()
}

// benchWriter is an http.ResponseWriter that keeps the status and the first
// bytes of the body and drops the rest. httptest.ResponseRecorder clones
// the header map on WriteHeader (a cost net/http does not have), which hid
// the stack's own allocations behind the recorder's.
type benchWriter struct {
	hdr  http.Header
	code int
	body []byte
}

func (w *benchWriter) reset() {
	w.hdr = make(http.Header)
	w.code = 0
	w.body = w.body[:0]
}

func (w *benchWriter) Header() http.Header { return w.hdr }

func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if room := 512 - len(w.body); room > 0 {
		w.body = append(w.body, p[:min(room, len(p))]...)
	}
	return len(p), nil
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
	cpu := testenv.StartCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest("/api/v1/auth/me", benchToken)
		w := &benchWriter{}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Errorf("status %d: %s", w.code, w.body)
				return
			}
		}
	})
	cpu.Report()
}

// sysClock is the wall clock, as the server's.
type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now().UTC() }

// benchSecret signs the real-stack benchmarks' tokens.
var benchSecret = []byte("bench-secret-0123456789abcdef-0123456789")

// newRealStack is the embedded mode's JWT path with nothing faked: the real
// verifier (adapter/jwt), the in-process denylist and GCRA budgets behind
// the gate (adapter/memory, as cmd/m9m/app wires them with rate limiting
// on, with a budget too large to trip), the Prometheus metrics and a JSON
// zap logger at level writing to w. It returns the handler and a token
// login would have issued.
func newRealStack(b *testing.B, level zapcore.Level, w io.Writer) (http.Handler, string) {
	b.Helper()
	clock := sysClock{}
	verifier, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: benchSecret}}, clock)
	if err != nil {
		b.Fatal(err)
	}
	limiter, err := memory.NewRateLimiter(clock, 60_000_000, 1_000_000_000)
	if err != nil {
		b.Fatal(err)
	}
	gate := memory.NewGate(memory.NewDenylist(clock), limiter)
	chain := &authn.Chain{Bearer: auth.NewGatedAuthenticator(verifier, gate)}
	routes := httpapi.AuthRoutes(auth.New(auth.Deps{}, auth.Settings{}), chain, true)
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), level))
	srv, err := httpapi.Build(httpapi.Settings{}, log, chain, limiter, metrics.New(), nil, routes)
	if err != nil {
		b.Fatal(err)
	}
	now := clock.Now()
	tok, err := verifier.Issue(session.Claims{
		TokenID: benchPrincipal.TokenID, SessionID: benchPrincipal.SessionID,
		UserID: benchPrincipal.UserID, Username: benchPrincipal.Username, Role: benchPrincipal.Role,
		IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), tok
}

// BenchmarkServer is the whole server of the embedded mode in process:
// GET /health and GET /api/v1/auth/me with a real JWT, at the bench
// server's log level (warn) and the default one (info, one JSON line per
// request to nowhere).
func BenchmarkServer(b *testing.B) {
	for _, lv := range []struct {
		name  string
		level zapcore.Level
	}{{"log=warn", zapcore.WarnLevel}, {"log=info", zapcore.InfoLevel}} {
		h, tok := newRealStack(b, lv.level, io.Discard)
		b.Run(lv.name+"/health", func(b *testing.B) {
			serveLoop(b, h, benchRequest("/health", ""), http.StatusOK)
		})
		b.Run(lv.name+"/me-jwt", func(b *testing.B) {
			serveLoop(b, h, benchRequest("/api/v1/auth/me", tok), http.StatusOK)
		})
	}
}

// BenchmarkAccessLogSink is /health at info level with the access line
// written to a real file, as the server writes to stderr: unbuffered (one
// write(2) per request, what infra/log builds today) and through zap's
// BufferedWriteSyncer. The gap is the system call, not the encoding.
func BenchmarkAccessLogSink(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	b.Run("unbuffered", func(b *testing.B) {
		h, _ := newRealStack(b, zapcore.InfoLevel, zapcore.Lock(f))
		serveLoop(b, h, benchRequest("/health", ""), http.StatusOK)
	})
	b.Run("buffered", func(b *testing.B) {
		ws := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(f)}
		defer func() { _ = ws.Stop() }()
		h, _ := newRealStack(b, zapcore.InfoLevel, ws)
		serveLoop(b, h, benchRequest("/health", ""), http.StatusOK)
	})
}
