package e2e_test

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// azContractPublic is contract §2's list of public endpoints, as echo
// routes. The webhook route is a wildcard because webhook paths may
// contain slashes.
var azContractPublic = []string{
	"GET /health",
	"GET /ready",
	"HEAD /health", // as GET without a body, for load balancers that probe with HEAD
	"HEAD /ready",
	"GET /api/v1/openapi.yaml",
	"POST /api/v1/auth/login",
	"POST /webhook/*",
	// The console's static files and the redirects to them (contract §4a).
	"GET /",
	"GET /console",
	"GET /console/*",
}

// azSelfAuthenticating are routes declared Public so that the guard does
// not authenticate them, because their handler authenticates the caller
// itself. They are not public to a client — each must refuse a request
// without credentials with 401, which TestAuthorizationDenyByDefault
// checks — but the list must stay short and every entry justified.
var azSelfAuthenticating = map[string]string{
	// Concurrent refreshes of one token must get the same successor within
	// the grace (contract §4), but the first refresh has already revoked the
	// token, so the guard would answer 401; the use case verifies the token,
	// its session and the denylist itself.
	"POST /api/v1/auth/refresh": "verifies the bearer token itself (refresh grace)",
}

var azParam = regexp.MustCompile(`(:[A-Za-z_]+|\*)`)

// azConcrete turns an echo route path into a request path.
func azConcrete(path string) string {
	return azParam.ReplaceAllString(path, "x")
}

// TestAuthorizationDenyByDefault walks what echo really routes and checks
// each route against the declarative table: every route is declared, every
// protected route names a known permission (or is open to any
// authenticated caller), and the public routes are exactly the contract's.
// Then it asks every protected route without credentials (401), and every
// route needing a permission a viewer lacks with a viewer's token (403).
func TestAuthorizationDenyByDefault(t *testing.T) {
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		// Every auth method on, so every route that exists is registered.
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "basic-" + strings.Repeat("p", 16)}
	}))
	table := s.HTTP().RouteTable()
	registered := s.HTTP().RegisteredRoutes()
	if len(registered) < 10 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}

	var offenders, public []string
	for _, key := range registered {
		r, ok := table[key]
		switch {
		case !ok:
			offenders = append(offenders, key+": routed by echo but missing from the route table (no access rule)")
		case r.Public:
			public = append(public, key)
		case r.Permission == "" && !r.AnyAuthenticated:
			offenders = append(offenders, key+": protected route without a permission")
		case r.Permission != "" && !user.ValidPermission(r.Permission):
			offenders = append(offenders, key+": unknown permission "+string(r.Permission))
		case r.Permission != "" && r.AnyAuthenticated:
			offenders = append(offenders, key+": both a permission and AnyAuthenticated (ambiguous)")
		}
	}
	for key := range table {
		if !slices.Contains(registered, key) {
			offenders = append(offenders, key+": in the route table but not routed by echo")
		}
	}
	if len(offenders) > 0 {
		sort.Strings(offenders)
		t.Fatalf("deny-by-default violations:\n  %s", strings.Join(offenders, "\n  "))
	}

	want := slices.Clone(azContractPublic)
	for key := range azSelfAuthenticating {
		want = append(want, key)
	}
	sort.Strings(want)
	sort.Strings(public)
	if !slices.Equal(public, want) {
		t.Fatalf("public routes differ from contract §2:\n got  %v\n want %v (contract) + %v (self-authenticating)",
			public, azContractPublic, azSelfAuthenticating)
	}

	viewerTok := func() string {
		admin := s.AdminToken(t)
		_, u, p := s.CreateUser(t, admin, "viewer")
		return s.Login(t, u, p)
	}()
	for _, key := range registered {
		method, path, _ := strings.Cut(key, " ")
		r := table[key]
		if r.Public && azSelfAuthenticating[key] == "" {
			continue
		}
		if method == echo.RouteNotFound {
			// The catch-all for unknown paths is guarded too (no anonymous
			// route enumeration); probe it with an unrouted path.
			method, path = http.MethodGet, strings.Replace(path, "*", "no-such-route", 1)
		}
		// No credentials: 401 with the challenge, before any handler runs.
		resp := s.DoRaw(t, harness.Req{Method: method, Path: azConcrete(path), Body: "{}"})
		if resp.Status != http.StatusUnauthorized || resp.Code() != "AUTH_REQUIRED" {
			t.Errorf("%s without credentials: %d %s, want 401 AUTH_REQUIRED", key, resp.Status, resp.Body)
		}
		if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `Basic realm="m9m"`) {
			t.Errorf("%s: WWW-Authenticate %q lacks the Basic challenge while basic auth is enabled", key, resp.Header.Get("WWW-Authenticate"))
		}
		// A viewer lacks users:manage, audit:read and workflows:write.
		if r.Permission != "" && !user.RoleViewer.Has(r.Permission) {
			resp := s.DoRaw(t, harness.Req{Method: method, Path: azConcrete(path), Body: "{}", Bearer: viewerTok})
			if resp.Status != http.StatusForbidden || resp.Code() != "ACCESS_DENIED" {
				t.Errorf("%s as a viewer: %d %s, want 403 ACCESS_DENIED", key, resp.Status, resp.Body)
			}
		}
	}
}

// TestEveryRouteIsDocumented checks that each route echo serves has an
// operation in the OpenAPI document (so harness.Do can check its answers).
func TestEveryRouteIsDocumented(t *testing.T) {
	s := harness.Start(t)
	doc := harness.LoadSpec(t).Doc
	documented := map[string]bool{}
	braces := regexp.MustCompile(`\{[^}]+\}`)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+braces.ReplaceAllString(path, "{}")] = true
		}
	}
	var missing []string
	for _, key := range s.HTTP().RegisteredRoutes() {
		method, path, _ := strings.Cut(key, " ")
		if method == echo.RouteNotFound {
			continue // answers only 401/404 envelopes, documented as errors
		}
		if !documented[method+" "+azParam.ReplaceAllString(path, "{}")] {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("routes missing from the OpenAPI document:\n  %s", strings.Join(missing, "\n  "))
	}
}
