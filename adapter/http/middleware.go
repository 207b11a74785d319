package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	headerRequestID = "X-Request-ID"
	ctxRequestID    = "m9m.request_id"
)

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// requestIDMiddleware accepts a caller's X-Request-ID only when it is short
// and plain (so it cannot inject into logs), and otherwise makes one.
func requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rid := c.Request().Header.Get(headerRequestID)
		if !safeRequestID.MatchString(rid) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			rid = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, rid)
		c.Response().Header().Set(headerRequestID, rid)
		return next(c)
	}
}

func requestID(c echo.Context) string {
	if v, ok := c.Get(ctxRequestID).(string); ok {
		return v
	}
	return ""
}

// securityHeaders sets the headers every answer carries. API answers are
// personal and must never be cached by browsers or proxies.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			p := c.Request().URL.Path
			if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhook/") {
				h.Set("Cache-Control", "no-store")
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

// accessLog writes one line per request. Bodies are never logged; headers
// only at debug level and redacted.
func accessLog(log *zap.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			req := c.Request()
			res := c.Response()
			fields := []zap.Field{
				zap.String("request_id", requestID(c)),
				zap.String("method", req.Method),
				zap.String("route", c.Path()),
				zap.String("path", req.URL.Path),
				zap.Int("status", res.Status),
				zap.Duration("latency", time.Since(start)),
				zap.Int64("bytes_out", res.Size),
				zap.String("ip", c.RealIP()),
				zap.String("user_agent", req.UserAgent()),
			}
			// A webhook delivery's secrets are its owner's choice of header
			// or parameter: scrub all but the known-harmless ones, for every
			// answer (also a 405, 413, 429 or 401 before the handler ran).
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
			log.Info("request", fields...)
			return nil
		}
	}
}
