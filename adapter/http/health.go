package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
)

// ReadinessCheck is one dependency /ready pings. Name appears in the answer,
// so it must be a plain label ("postgres"), never a DSN.
type ReadinessCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

type readyBody struct {
	Envelope
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func systemRoutes(checks []ReadinessCheck) Routes {
	return Routes{
		{Method: http.MethodGet, Path: "/health", Public: true, NoRateLimit: true, Handler: health},
		{Method: http.MethodGet, Path: "/ready", Public: true, NoRateLimit: true, Handler: ready(checks)},
		// Load balancers probe with HEAD: the same answer, without a body
		// (net/http discards what a handler writes to a HEAD response).
		{Method: http.MethodHead, Path: "/health", Public: true, NoRateLimit: true, Handler: health},
		{Method: http.MethodHead, Path: "/ready", Public: true, NoRateLimit: true, Handler: ready(checks)},
		{Method: http.MethodGet, Path: "/api/v1/openapi.yaml", Public: true, Handler: serveOpenAPI},
		// Deny by default: an unknown path under /api/v1 is a 401 to an
		// anonymous caller (no route enumeration) and a 404 to anyone else.
		{Method: echo.RouteNotFound, Path: "/api/v1/*", AnyAuthenticated: true, Handler: apiNotFound},
	}
}

// apiNotFound answers what echo routes to the /api/v1 catch-all: 405 when
// the path is a route of other methods (echo prefers the catch-all's
// not-found handler over its own 405), else 404.
func apiNotFound(c echo.Context) error {
	if allow, _ := allowedMethods(c); len(allow) > 0 {
		return methodNotAllowed(c, allow)
	}
	return domain.ErrNotFound.WithMessage("Route not found")
}

// methodNotAllowed is the 405 answer, with the Allow header.
func methodNotAllowed(c echo.Context, allow []string) error {
	c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
	return echo.ErrMethodNotAllowed
}

// allowedMethods lists the methods that route the request's path to a real
// handler rather than to the catch-all, and the route patterns they reach.
func allowedMethods(c echo.Context) (methods, patterns []string) {
	req := c.Request()
	path := req.URL.RawPath
	if path == "" {
		path = req.URL.Path
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == req.Method {
			continue
		}
		probe := c.Echo().NewContext(nil, nil)
		c.Echo().Router().Find(m, path, probe)
		if p := probe.Path(); p != "" && p != c.Path() {
			methods = append(methods, m)
			patterns = append(patterns, p)
		}
	}
	return methods, patterns
}

func health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ready pings every dependency concurrently with a short deadline, so a
// hung dependency makes /ready fail fast instead of hanging the probe.
func ready(checks []ReadinessCheck) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		results := make(map[string]string, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, chk := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := "ok"
				if err := chk.Check(ctx); err != nil {
					status = "unavailable"
				}
				mu.Lock()
				results[chk.Name] = status
				mu.Unlock()
			}()
		}
		wg.Wait()
		var failing []string
		for _, chk := range checks {
			if results[chk.Name] != "ok" {
				failing = append(failing, chk.Name)
			}
		}
		if len(failing) == 0 {
			return c.JSON(http.StatusOK, map[string]any{"status": "ready", "checks": results})
		}
		msg := "Not ready: "
		for i, f := range failing {
			if i > 0 {
				msg += ", "
			}
			msg += f + " unavailable"
		}
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, readyBody{
			Envelope: Envelope{
				Error:     http.StatusText(http.StatusServiceUnavailable),
				Code:      domain.CodeUnavailable,
				Message:   msg,
				RequestID: requestID(c),
			},
			Status: "unavailable",
			Checks: results,
		})
	}
}
