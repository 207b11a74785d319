package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
)

// maxIDLen bounds a resource id in a path or query: every id this service
// issues is 32 hex characters, so anything much longer is junk.
const maxIDLen = 64

// validID reports whether s could be an id this service issued. Ids are
// checked before any lookup because Postgres refuses text with NUL bytes or
// invalid UTF-8 (a 500 on hostile input), and junk has no business reaching
// the database anyway.
func validID(s string) bool {
	if len(s) < 1 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idByte(s[i]) {
			return false
		}
	}
	return true
}

// idByte reports whether c may appear in an id: [A-Za-z0-9_-].
func idByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		return true
	default:
		return false
	}
}

// pathID returns the :id path parameter, or 404 when no id could look like
// it (as for an unknown id).
func pathID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !validID(id) {
		return "", domain.ErrNotFound
	}
	return id, nil
}
