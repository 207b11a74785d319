package httpapi

import (
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
)

// SessionCookieName is the console's session cookie (contract §4a). The
// __Host- prefix makes the browser refuse it unless it is Secure, has
// Path=/ and no Domain, so no sibling subdomain or plain-HTTP page can set
// or shadow it. Browsers treat http://localhost and http://127.0.0.1 as
// secure, so it works in development without TLS.
const SessionCookieName = "__Host-m9m_session"

// sessionModeCookie is the login body's `"session": "cookie"`: the answer
// sets the session cookie and leaves the token out of the body.
const sessionModeCookie = "cookie"

// crossOrigin is Go's Fetch-Metadata CSRF check: it allows safe methods,
// requests whose Sec-Fetch-Site is same-origin or none, and, without that
// header, requests whose Origin matches Host; a request with neither
// header is a non-browser client (browsers send one of them on every
// unsafe request) and is allowed. No origin is trusted beyond the server's
// own: a page on another port of the same host is same-site, not
// same-origin, and is refused.
var crossOrigin = http.NewCrossOriginProtection()

// errCrossOrigin is the 403 for a browser request that failed the CSRF
// check; nothing has been done when it is returned.
var errCrossOrigin = domain.ErrForbidden.WithMessage("Cross-origin request refused")

// errNotJSON is the 403 for a cookie-authenticated unsafe request (or a
// login) that is not Content-Type: application/json. HTML forms cannot send
// that type, and a cross-origin fetch cannot without a CORS preflight,
// which this server never grants for the cookie.
var errNotJSON = domain.ErrForbidden.WithMessage("Browser requests must be Content-Type: application/json")

// checkBrowserRequest is the CSRF defence of contract §4a, applied to every
// unsafe request authenticated by the session cookie and to every login:
// net/http.CrossOriginProtection, then Content-Type: application/json.
func checkBrowserRequest(r *http.Request) error {
	if isSafeMethod(r.Method) {
		return nil
	}
	if err := crossOrigin.Check(r); err != nil {
		return errCrossOrigin
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return errNotJSON
	}
	return nil
}

// scriptRequest reports whether a page's script sent r (fetch or XHR), as
// opposed to a navigation or a non-browser client.
func scriptRequest(r *http.Request) bool {
	m := r.Header.Get("Sec-Fetch-Mode")
	return m != "" && m != "navigate"
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// setSessionCookie hands the browser its session token: httpOnly (no
// script ever reads it), Secure, SameSite=Strict, Path=/, living exactly
// as long as the token.
func setSessionCookie(c echo.Context, token string, expires, now time.Time) {
	c.SetCookie(sessionCookie(token, max(int(expires.Sub(now).Seconds()), 1), expires.UTC()))
}

// clearSessionCookie tells the browser to drop its session cookie
// (Max-Age=0, same attributes, so the browser matches it).
func clearSessionCookie(c echo.Context) {
	c.SetCookie(sessionCookie("", -1, time.Unix(0, 0).UTC())) // net/http writes Max-Age=0 for -1
}

func sessionCookie(value string, maxAge int, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     SessionCookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Expires:  expires,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	}
}
