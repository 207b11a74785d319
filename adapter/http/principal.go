package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
)

const ctxPrincipal = "m9m.principal"

func setPrincipal(c echo.Context, p principal.Principal) { c.Set(ctxPrincipal, p) }

func principalFrom(c echo.Context) (principal.Principal, bool) {
	p, ok := c.Get(ctxPrincipal).(principal.Principal)
	return p, ok
}

// Caller returns the authenticated principal of a protected route. It is an
// error (401) to call it on a route that did not authenticate.
func Caller(c echo.Context) (principal.Principal, error) {
	p, ok := principalFrom(c)
	if !ok {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	return p, nil
}

// ClientOf describes the request's origin for sessions and audit. Its text
// is made storable here (principal.Client.Storable: valid UTF-8, no NUL,
// cut on a rune boundary), so a hostile User-Agent can never fail a session
// insert.
func ClientOf(c echo.Context) principal.Client {
	return principal.Client{
		IP:        c.RealIP(),
		UserAgent: c.Request().UserAgent(),
		RequestID: requestID(c),
	}.Storable()
}
