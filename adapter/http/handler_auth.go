package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
)

// authHandlers serve /api/v1/auth/*: sessions, who am I, password change.
type authHandlers struct {
	svc     *auth.Service
	chain   *authn.Chain
	devices *DeviceCookies // nil: no device cookies
}

// now is the sessions' clock (the one token expiries come from), so a
// cookie's Max-Age is exactly its token's remaining life.
func (h *authHandlers) now() time.Time {
	if h.svc != nil && h.svc.Clock != nil {
		return h.svc.Clock.Now()
	}
	return time.Now()
}

// AuthOption adjusts the session endpoints.
type AuthOption func(*authHandlers)

// WithDeviceCookies makes cookie-session logins mark the browser with a
// signed device cookie (see DeviceCookies).
func WithDeviceCookies(d *DeviceCookies) AuthOption {
	return func(h *authHandlers) { h.devices = d }
}

// AuthRoutes declares the session endpoints. With JWT disabled only
// /auth/me remains (API-key and basic callers use it); login, refresh,
// logout, sessions and password change are then 404, like any endpoint of
// a disabled method (contract §1) — for anonymous callers too, on login and
// refresh, which are the ones they call.
//
// Refresh is declared Public on purpose, and authenticates by itself: the
// guard's authentication would refuse a refresh racing another refresh of
// the same token (the winner has already revoked it), which must instead
// get the same successor within the grace (contract §4). The use case
// checks the signature, the session and the denylist itself.
func AuthRoutes(svc *auth.Service, chain *authn.Chain, jwtEnabled bool, opts ...AuthOption) Routes {
	h := &authHandlers{svc: svc, chain: chain}
	for _, o := range opts {
		o(h)
	}
	rs := Routes{
		{Method: http.MethodGet, Path: "/api/v1/auth/me", Handler: h.me, AnyAuthenticated: true},
	}
	if !jwtEnabled {
		// Declared so that anonymous callers get the contract's 404 for a
		// disabled method, not the 401 every unknown /api/v1 route gets.
		return append(rs,
			Route{Method: http.MethodPost, Path: "/api/v1/auth/login", Handler: jwtDisabled, Public: true},
			Route{Method: http.MethodPost, Path: "/api/v1/auth/refresh", Handler: jwtDisabled, Public: true},
		)
	}
	return append(rs,
		Route{Method: http.MethodPost, Path: "/api/v1/auth/login", Handler: h.login, Public: true},
		Route{Method: http.MethodPost, Path: "/api/v1/auth/refresh", Handler: h.refresh, Public: true},
		Route{Method: http.MethodPost, Path: "/api/v1/auth/logout", Handler: h.logout, AnyAuthenticated: true, DenyAPIKey: true},
		Route{Method: http.MethodGet, Path: "/api/v1/auth/sessions", Handler: h.listSessions, AnyAuthenticated: true},
		// An API key (often kept by automation) may not end interactive sessions.
		Route{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/:id", Handler: h.endSession, AnyAuthenticated: true, DenyAPIKey: true},
		Route{Method: http.MethodPost, Path: "/api/v1/auth/password", Handler: h.changePassword, AnyAuthenticated: true, DenyAPIKey: true},
	)
}

// jwtDisabled answers the session endpoints while security.jwt.enabled is false.
func jwtDisabled(echo.Context) error {
	return domain.ErrNotFound.WithMessage("JWT authentication is disabled")
}

// authUserBody is the short form of a user in auth answers.
type authUserBody struct {
	ID       string    `json:"id"`
	Username string    `json:"username"`
	Role     user.Role `json:"role"`
}

type authLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// Session "cookie" asks for a browser session (contract §4a); "" or
	// "token" is the default bearer token in the body.
	Session string `json:"session"`
}

// authTokenBody leaves Token out for a cookie session: no script sees it.
type authTokenBody struct {
	Token     string `json:"token,omitempty"`
	ExpiresAt string `json:"expiresAt"`
}

type authLoginBody struct {
	authTokenBody
	User authUserBody `json:"user"`
}

type authMeBody struct {
	User        authUserBody      `json:"user"`
	AuthMethod  string            `json:"authMethod"`
	Permissions []user.Permission `json:"permissions"`
	// ExpiresAt is the session token's exp, for a session caller: the
	// console schedules its refresh by it, since it cannot read the cookie.
	ExpiresAt string `json:"expiresAt,omitempty"`
}

type authSessionBody struct {
	ID              string `json:"id"`
	CreatedAt       string `json:"createdAt"`
	LastRefreshedAt string `json:"lastRefreshedAt"`
	IP              string `json:"ip"`
	UserAgent       string `json:"userAgent"`
	Current         bool   `json:"current"`
}

type authSessionsBody struct {
	Data []authSessionBody `json:"data"`
}

type authPasswordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// formatAPITime renders a time as the contract wants it: RFC 3339, UTC,
// whole seconds.
func formatAPITime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// login also guards against login CSRF (a page logging the visitor in to
// the attacker's account): every login passes the browser check.
func (h *authHandlers) login(c echo.Context) error {
	if err := checkBrowserRequest(c.Request()); err != nil {
		return err
	}
	var req authLoginRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	cookie := false
	switch req.Session {
	case "", "token":
	case sessionModeCookie:
		cookie = true
	default:
		return domain.InvalidField("session", `must be "token" or "cookie"`)
	}
	// The browser's proven device: the throttle's protected mode lets a
	// device known to the account through (contract §4), and a successful
	// login makes it known. A console login without a valid device cookie
	// gets a fresh device now, so that this very login makes it known.
	client := ClientOf(c)
	if cookie {
		client.Device = h.devices.Verify(c.Request().Header)
		if client.Device == "" {
			client.Device = h.devices.NewID()
		}
	}
	res, err := h.svc.Login(c.Request().Context(), auth.LoginInput{Username: req.Username, Password: req.Password, Client: client})
	if err != nil {
		return err
	}
	body := authLoginBody{
		authTokenBody: authTokenBody{Token: res.Token.Token, ExpiresAt: formatAPITime(res.ExpiresAt)},
		User:          authUserBody{ID: res.User.ID, Username: res.User.Username, Role: res.User.Role},
	}
	if cookie {
		setSessionCookie(c, res.Token.Token, res.ExpiresAt, h.now())
		body.Token = ""
		h.devices.Issue(c, client.Device)
	}
	return c.JSON(http.StatusOK, body)
}

// refresh takes the presented bearer token itself (see AuthRoutes). Any
// other credential is judged as usual first, so a bad one is still a 401,
// and a good one gets 403: only session tokens can be refreshed.
func (h *authHandlers) refresh(c echo.Context) error {
	cred, err := ParseCredential(c.Request().Header)
	if err != nil {
		return err
	}
	switch cred.Kind {
	case authn.KindBearer:
	case authn.KindSession:
		if err := checkBrowserRequest(c.Request()); err != nil {
			return err
		}
	case authn.KindNone:
		return domain.ErrUnauthenticated
	default:
		if _, err := h.chain.Authenticate(c.Request().Context(), cred, ClientOf(c)); err != nil {
			return err
		}
		return domain.ErrForbidden.WithMessage("Only session tokens can be refreshed")
	}
	tok, err := h.svc.Refresh(c.Request().Context(), cred.Secret, ClientOf(c))
	if err != nil {
		return err
	}
	if cred.Kind == authn.KindSession {
		// Racing tabs within the grace all get the same successor, so
		// they all set the same cookie: none is logged out (§4).
		setSessionCookie(c, tok.Token, tok.ExpiresAt, h.now())
		return c.JSON(http.StatusOK, authTokenBody{ExpiresAt: formatAPITime(tok.ExpiresAt)})
	}
	return c.JSON(http.StatusOK, authTokenBody{Token: tok.Token, ExpiresAt: formatAPITime(tok.ExpiresAt)})
}

func (h *authHandlers) logout(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	if err := h.svc.Logout(c.Request().Context(), p, ClientOf(c)); err != nil {
		return err
	}
	if p.Method == principal.MethodSession {
		clearSessionCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *authHandlers) me(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	m := h.svc.Me(p)
	body := authMeBody{
		User:        authUserBody{ID: m.UserID, Username: m.Username, Role: m.Role},
		AuthMethod:  string(m.Method),
		Permissions: m.Permissions,
	}
	if p.Method == principal.MethodSession && !p.TokenExpiry.IsZero() {
		body.ExpiresAt = formatAPITime(p.TokenExpiry)
	}
	return c.JSON(http.StatusOK, body)
}

func (h *authHandlers) listSessions(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	list, err := h.svc.ListSessions(c.Request().Context(), p)
	if err != nil {
		return err
	}
	body := authSessionsBody{Data: make([]authSessionBody, 0, len(list))}
	for _, s := range list {
		body.Data = append(body.Data, authSessionBody{
			ID:              s.ID,
			CreatedAt:       formatAPITime(s.CreatedAt),
			LastRefreshedAt: formatAPITime(s.LastRefreshedAt),
			IP:              s.IP,
			UserAgent:       s.UserAgent,
			Current:         s.Current,
		})
	}
	return c.JSON(http.StatusOK, body)
}

func (h *authHandlers) endSession(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := h.svc.EndSession(c.Request().Context(), p, id, ClientOf(c)); err != nil {
		return err
	}
	if p.Method == principal.MethodSession && id == p.SessionID {
		clearSessionCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *authHandlers) changePassword(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	var req authPasswordRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	in := auth.ChangePasswordInput{CurrentPassword: req.CurrentPassword, NewPassword: req.NewPassword, Client: ClientOf(c)}
	if err := h.svc.ChangePassword(c.Request().Context(), p, in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
