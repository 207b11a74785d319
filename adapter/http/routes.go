package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain/user"
)

// Route is one endpoint and its access rule. Routes are the declarative
// route → permission table (deny by default): a route is public only if it
// says so, and every other route must name the permission it requires.
// Finer rules (ownership, admin-only fields) live in the use cases.
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	// Public routes need no credentials (contract §2). Never set it lightly.
	Public bool
	// Permission every caller must hold. Ignored for public routes; a
	// non-public route without one is refused at start.
	Permission user.Permission
	// AnyAuthenticated marks a protected route open to every authenticated
	// caller (e.g. /auth/me), instead of a permission.
	AnyAuthenticated bool
	// DenyAPIKey refuses API-key callers (minting keys, changing passwords).
	DenyAPIKey bool
	// NoRateLimit exempts the route from rate limiting (/health, /ready).
	NoRateLimit bool
}

// Routes is what each feature contributes to the server, collected by fx.
type Routes []Route
