package httpapi

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
)

// The console's static files (contract §4a): plain HTML, CSS and ES
// modules, embedded in the binary, with no build step and nothing inline.
//
//go:embed console
var consoleFiles embed.FS

// consoleCSP is the console's own policy: only its own scripts, styles,
// images and API; no inline or eval'd script, no framing, no <base>, no
// plugins, forms only to itself, and DOM sinks closed to strings (Trusted
// Types), so an injected string can never become markup or script. The
// API keeps its own stricter "default-src 'none'".
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// ConsoleRoutes serves the console under /console/ and sends / there. The
// files are public (they hold no data); everything they show comes from
// the API, which authenticates every call.
func ConsoleRoutes() Routes {
	files, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	serve := consoleHandler(files)
	toConsole := func(c echo.Context) error { return c.Redirect(http.StatusFound, "/console/") }
	return Routes{
		{Method: http.MethodGet, Path: "/", Handler: toConsole, Public: true, NoRateLimit: true},
		{Method: http.MethodGet, Path: "/console", Handler: toConsole, Public: true, NoRateLimit: true},
		{Method: http.MethodGet, Path: "/console/*", Handler: serve, Public: true, NoRateLimit: true},
	}
}

func consoleHandler(files fs.FS) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("*")
		if name == "" || strings.HasSuffix(name, "/") {
			name += "index.html"
		}
		if !fs.ValidPath(name) {
			return domain.ErrNotFound
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return domain.ErrNotFound
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = echo.MIMEOctetStream
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// Revalidate every time: an upgraded binary's console is used at once.
		h.Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, ctype, body)
	}
}
