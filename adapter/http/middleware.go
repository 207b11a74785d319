package httpapi

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const headerRequestID = "X-Request-ID"

// Header keys as net/http stores them (canonical form). The hot path reads
// and writes the header maps with them directly: Header.Get and Header.Set
// canonicalize their key on every call, and allocate a new string for a key
// spelled otherwise ("X-Request-ID" is stored as "X-Request-Id").
var (
	hdrRequestID = http.CanonicalHeaderKey(headerRequestID)
	hdrXFF       = http.CanonicalHeaderKey(echo.HeaderXForwardedFor)
	hdrXRealIP   = http.CanonicalHeaderKey(echo.HeaderXRealIP)

	hdrUserAgent = http.CanonicalHeaderKey("User-Agent")

	hdrRateLimit     = http.CanonicalHeaderKey("X-RateLimit-Limit")
	hdrRateRemaining = http.CanonicalHeaderKey("X-RateLimit-Remaining")
	hdrRateReset     = http.CanonicalHeaderKey("X-RateLimit-Reset")
)

// firstValue is h.Get(key) for a key already canonical, without Get's
// per-call canonicalization.
func firstValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// maxRequestIDLen bounds a caller's X-Request-ID.
const maxRequestIDLen = 64

// plainRequestID reports whether a caller's X-Request-ID may be kept: 1 to
// 64 characters of [A-Za-z0-9._:-], so it cannot inject into logs.
func plainRequestID(s string) bool {
	if len(s) < 1 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 96 random bits as 24 hex characters. They come from
// the runtime's per-thread ChaCha8 generator (math/rand/v2, seeded by the
// OS), not crypto/rand: a request id needs to be unique, not secret (any
// caller may choose its own), and this costs no system call and no lock.
func newRequestID() string {
	var raw [12]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64()) //nolint:gosec // uniqueness, not secrecy (see above)
	binary.LittleEndian.PutUint32(raw[8:], rand.Uint32()) //nolint:gosec // idem
	var out [24]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// requestIDMiddleware accepts a caller's X-Request-ID only when it is short
// and plain (so it cannot inject into logs), and otherwise makes one. The id
// lives in the answer's X-Request-ID header, where requestID reads it back:
// no per-request context entry.
func requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var rid string
		if v := firstValue(c.Request().Header, hdrRequestID); plainRequestID(v) {
			rid = v
		} else {
			rid = newRequestID()
		}
		c.Response().Header()[hdrRequestID] = []string{rid}
		return next(c)
	}
}

// requestID is the request's id, as its answer carries it ("" outside the
// middleware, as in a handler called directly by a test).
func requestID(c echo.Context) string {
	if r := c.Response(); r != nil {
		if v := r.Header()[hdrRequestID]; len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// presetHeader is a fixed answer header, its key canonical and its value
// built once. Every answer's header map shares the value slice: net/http
// and echo never write into a value slice (Set replaces it, Del drops it,
// Add appends, which copies since len == cap), so sharing it is safe and
// saves an allocation per header per request.
type presetHeader struct {
	key   string
	value []string
}

func preset(key, value string) presetHeader {
	return presetHeader{key: http.CanonicalHeaderKey(key), value: []string{value}[:1:1]}
}

var (
	securityPresets = []presetHeader{
		preset("X-Content-Type-Options", "nosniff"),
		preset("X-Frame-Options", "DENY"),
		preset("Referrer-Policy", "no-referrer"),
		preset("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
		preset("Cross-Origin-Resource-Policy", "same-origin"),
	}
	hstsPreset    = preset("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	noStorePreset = preset("Cache-Control", "no-store")
)

func (p presetHeader) set(h http.Header) { h[p.key] = p.value }

// securityHeaders sets the headers every answer carries. API answers are
// personal and must never be cached by browsers or proxies.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			for _, p := range securityPresets {
				p.set(h)
			}
			if hsts {
				hstsPreset.set(h)
			}
			p := c.Request().URL.Path
			if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhook/") {
				noStorePreset.set(h)
			}
			return next(c)
		}
	}
}

// recoverMiddleware turns a panic into a 500 envelope and one log line with
// the stack; the process keeps serving.
func recoverMiddleware(log *zap.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
						panic(r)
					}
					buf := make([]byte, 8<<10)
					buf = buf[:runtime.Stack(buf, false)]
					log.Error("panic recovered", zap.String("request_id", requestID(c)),
						zap.String("panic", fmt.Sprint(r)), zap.ByteString("stack", buf))
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}

// sensitiveHeaders are never logged with their values.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"X-Api-Key":           true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-M9m-Signature":     true,
}

// sensitiveParam matches query parameter names whose values are secrets.
var sensitiveParam = regexp.MustCompile(`(?i)(pass|secret|token|key|auth|sig|cred|session)`)

// redactHeaders copies h with secret values replaced.
func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		if sensitiveHeaders[ck] || sensitiveParam.MatchString(ck) {
			out[ck] = "[REDACTED]"
			continue
		}
		out[ck] = strings.Join(v, ", ")
	}
	return out
}

// redactQuery returns the raw query with secret-looking values replaced.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "[UNPARSEABLE]"
	}
	for k := range q {
		if sensitiveParam.MatchString(k) {
			q[k] = []string{"REDACTED"}
		}
	}
	return q.Encode()
}

// observeAndLog records each answer's latency by route template (never the
// raw path, which would explode metric cardinality) and writes the access
// line: one per request at info level, nothing at all (no field computed)
// above it. Bodies are never logged; headers only at debug level, redacted.
// It turns the error an inner handler returned into its answer (c.Error),
// so both record the status the client got.
func observeAndLog(log *zap.Logger, m Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			latency := time.Since(start)
			route := c.Path()
			label := route
			if label == "" {
				label = "unmatched"
			}
			m.ObserveRequest(c.Request().Method, label, c.Response().Status, latency.Seconds())
			if ce := log.Check(zapcore.InfoLevel, "request"); ce != nil {
				writeAccessLine(ce, log, c, route, latency)
			}
			return nil
		}
	}
}

// accessFields recycles the access line's field slices: zap cores encode
// the fields during Write and keep none of them.
var accessFields = sync.Pool{New: func() any {
	s := make([]zap.Field, 0, 16)
	return &s
}}

func writeAccessLine(ce *zapcore.CheckedEntry, log *zap.Logger, c echo.Context, route string, latency time.Duration) {
	req := c.Request()
	res := c.Response()
	fp := accessFields.Get().(*[]zap.Field)
	fields := append((*fp)[:0],
		zap.String("request_id", requestID(c)),
		zap.String("method", req.Method),
		zap.String("route", route),
		zap.String("path", req.URL.Path),
		zap.Int("status", res.Status),
		zap.Duration("latency", latency),
		zap.Int64("bytes_out", res.Size),
		zap.String("ip", c.RealIP()),
		zap.String("user_agent", firstValue(req.Header, hdrUserAgent)),
	)
	// A webhook delivery's secrets are its owner's choice of header or
	// parameter: scrub all but the known-harmless ones, for every answer
	// (also a 405, 413, 429 or 401 before the handler ran).
	webhook := isWebhookRequest(c)
	if webhook && req.URL.RawQuery != "" {
		fields = append(fields, zap.String("query", "[REDACTED]"))
	} else if q := redactQuery(req.URL.RawQuery); q != "" {
		fields = append(fields, zap.String("query", q))
	}
	if p, ok := principalFrom(c); ok {
		fields = append(fields, zap.String("user_id", p.UserID), zap.String("auth_method", string(p.Method)))
	}
	if log.Core().Enabled(zapcore.DebugLevel) {
		if webhook {
			fields = append(fields, zap.Any("headers", webhookLogHeaders(req.Header)))
		} else {
			fields = append(fields, zap.Any("headers", redactHeaders(req.Header)))
		}
	}
	ce.Write(fields...)
	clear(fields) // drop the references before the slice waits in the pool
	*fp = fields[:0]
	accessFields.Put(fp)
}
