package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
	"github.com/m9m/auth/usecase/revocation"
)

// guard wraps every route with authentication, rate limiting and
// authorization, in that order, driven by the route's declaration.
type guard struct {
	chain   *authn.Chain
	limiter port.RateLimiter // nil when rate limiting is off
	log     *zap.Logger
	metrics Metrics
	// public holds the path patterns of public routes: a wrong method on
	// one is 405 before any authentication, since the path is no secret.
	public map[string]bool
}

func (g *guard) wrap(r Route) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r.Method == echo.RouteNotFound {
			if allow, patterns := allowedMethods(c); len(allow) > 0 && slices.ContainsFunc(patterns, func(p string) bool { return g.public[p] }) {
				return methodNotAllowed(c, allow)
			}
		}
		var p principal.Principal
		var authErr error
		authed := false
		if !r.Public {
			p, authErr = g.authenticate(c)
			if authErr == nil {
				authed = true
				setPrincipal(c, p)
			} else if domain.KindOf(authErr) == domain.KindUnavailable {
				// Infrastructure failure: never a 401, and no budget to charge.
				return authErr
			}
		}
		if !r.NoRateLimit {
			if err := g.limit(c, p, authed); err != nil {
				return err
			}
		}
		if authErr != nil {
			return authErr
		}
		if !r.Public {
			if r.DenyAPIKey && p.Method == principal.MethodAPIKey {
				return domain.ErrForbidden.WithMessage("API keys cannot be used for this operation")
			}
			if !r.AnyAuthenticated && !p.Can(r.Permission) {
				return domain.ErrForbidden
			}
		}
		if err := checkParams(c); err != nil {
			return err
		}
		if !r.Public && !safeMethod(c.Request().Method) {
			waitForCommit(c)
		}
		return r.Handler(c)
	}
}

// waitForCommit holds the answer of a request that may revoke (any unsafe
// method of an authenticated route) until the revocations it wrote have
// reached every instance (revocation.Commit: the lease after its last
// write), however many it wrote, and however it answers (success or error
// envelope: the writes before an error are in force too).
func waitForCommit(c echo.Context) {
	req := c.Request()
	ctx, commit := revocation.WithCommit(req.Context())
	c.SetRequest(req.WithContext(ctx))
	c.Response().Before(func() { commit.Wait(ctx) })
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// limit spends the caller's budget (the principal's when authenticated,
// else the client IP's) and answers 429 when it is exhausted. A budget the
// authenticator already spent (p.Budget, in its one round trip) is used as
// is and not spent again.
func (g *guard) limit(c echo.Context, p principal.Principal, authed bool) error {
	var dec port.RateDecision
	switch {
	case authed && p.Budget != nil:
		b := p.Budget
		dec = port.RateDecision{Allowed: b.Allowed, Limit: b.Limit, Remaining: b.Remaining, ResetAfter: b.ResetAfter, RetryAfter: b.RetryAfter}
	case g.limiter == nil:
		return nil
	default:
		key := ipRateKey(c.RealIP())
		if authed {
			key = p.RateKey()
		}
		d, err := g.limiter.Allow(c.Request().Context(), key)
		if err != nil && c.Request().Context().Err() != nil {
			return nil // the caller hung up: nothing to limit, and no outage to report
		}
		if err != nil {
			// Fail open: a Redis outage must not take the API down.
			g.log.Error("rate limiter unavailable; allowing request", zap.String("request_id", requestID(c)), zap.Error(err))
			g.metrics.RateLimitError()
			return nil
		}
		dec = d
	}
	setRateHeaders(c, dec)
	if !dec.Allowed {
		g.metrics.RateLimited(c.Path())
		return domain.RateLimited(dec.RetryAfter)
	}
	return nil
}

func (g *guard) authenticate(c echo.Context) (principal.Principal, error) {
	cred, err := ParseCredential(c.Request().Header)
	if err != nil {
		g.metrics.AuthAttempt("malformed", "failure")
		return principal.Principal{}, err
	}
	if cred.Kind == authn.KindNone {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	if cred.Kind == authn.KindSession {
		// The browser sends the cookie by itself: judge where the request
		// comes from before it is authenticated (contract §4a CSRF).
		if err := checkBrowserRequest(c.Request()); err != nil {
			g.metrics.AuthAttempt(methodName(cred.Kind), "failure")
			return principal.Principal{}, err
		}
	}
	p, err := g.chain.Authenticate(c.Request().Context(), cred, ClientOf(c))
	method := methodName(cred.Kind)
	switch {
	case err == nil:
		g.metrics.AuthAttempt(method, "success")
	case domain.KindOf(err) == domain.KindUnavailable:
		g.metrics.AuthAttempt(method, "error")
	default:
		g.metrics.AuthAttempt(method, "failure")
	}
	return p, err
}

func methodName(k authn.Kind) string {
	switch k {
	case authn.KindBearer:
		return string(principal.MethodJWT)
	case authn.KindAPIKey:
		return string(principal.MethodAPIKey)
	case authn.KindBasic:
		return string(principal.MethodBasic)
	case authn.KindSession:
		return string(principal.MethodSession)
	default:
		return "none"
	}
}

func setRateHeaders(c echo.Context, d port.RateDecision) {
	// Canonical keys (Set would re-make "X-Ratelimit-*" each time), the
	// three values in one backing array (cap 1 each, so Add still copies).
	v := []string{strconv.Itoa(d.Limit), strconv.Itoa(max(d.Remaining, 0)), strconv.Itoa(retryAfterSeconds(max(d.ResetAfter, time.Second)))}
	h := c.Response().Header()
	h[hdrRateLimit], h[hdrRateRemaining], h[hdrRateReset] = v[0:1:1], v[1:2:2], v[2:3:3]
}
