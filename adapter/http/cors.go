package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CORSSettings are security.cors, mapped by the composition root.
type CORSSettings struct {
	// AllowedOrigins are serialized origins (scheme://host[:port]) or "*".
	AllowedOrigins   []string
	AllowedMethods   []string
	AllowedHeaders   []string
	AllowCredentials bool
	// MaxAge is how many seconds a browser may cache a preflight answer.
	MaxAge int
}

// corsExposed are the answer headers a browser script may read: without
// them a SPA could not see its request ID, its rate budget or when to retry.
var corsExposed = []string{
	"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
	"Retry-After", "WWW-Authenticate",
}

// errWildcardCredentials is refused because it would let any web site act
// with a visitor's credentials.
var errWildcardCredentials = errors.New(`security.cors: "*" origin cannot be combined with allow_credentials`)

// NewCORS builds the CORS middleware. Origins are compared exactly (no
// pattern or subdomain matching, so "https://example.com.evil.io" never
// passes for "https://example.com"); an allowed origin is echoed back with
// Vary: Origin, any other origin gets no CORS header at all. Preflights are
// answered 204 here, before the guard, so they never need credentials and
// never spend a rate budget.
func NewCORS(s CORSSettings) (echo.MiddlewareFunc, error) {
	allowed := make(map[string]bool, len(s.AllowedOrigins))
	wildcard := false
	for _, o := range s.AllowedOrigins {
		if o == "*" {
			wildcard = true
			continue
		}
		allowed[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
	}
	if wildcard && s.AllowCredentials {
		return nil, errWildcardCredentials
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOriginFunc: func(origin string) (bool, error) {
			if origin == "" || origin == "null" {
				return false, nil
			}
			return wildcard || allowed[strings.ToLower(origin)], nil
		},
		AllowMethods:     methodsOrDefault(s.AllowedMethods),
		AllowHeaders:     s.AllowedHeaders,
		AllowCredentials: s.AllowCredentials,
		MaxAge:           s.MaxAge,
		ExposeHeaders:    corsExposed,
	}), nil
}

func methodsOrDefault(m []string) []string {
	if len(m) > 0 {
		return m
	}
	return []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
}

// answerOptions answers every OPTIONS request 204 itself, so that it never
// reaches the guard: a preflight carries no credentials (contract §2), and
// without this the deny-by-default catch-all under /api/v1 would answer it
// 401. With CORS on, the CORS middleware (which runs first) has already
// answered preflights; this covers CORS off and plain OPTIONS requests. No
// route of the API is an OPTIONS route.
//
// Allow is sent only where the router computed it (outside /api/v1): under
// /api/v1 it would tell an anonymous caller which paths exist, which the
// catch-all's 401 deliberately does not.
func answerOptions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodOptions {
			return next(c)
		}
		if allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok && allow != "" {
			c.Response().Header().Set(echo.HeaderAllow, allow)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
