package postgres

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/m9m/auth/domain"
)

// pageKey is the position of the last row of a page for keyset pagination
// over (created_at, id). Cursors are opaque to clients: base64url of JSON,
// so the encoding can change without breaking anyone who treats them so.
type pageKey struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

func encodeCursor(k pageKey) string {
	b, _ := json.Marshal(k) // a time and a string always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses a cursor; anything malformed is INVALID_REQUEST on
// the field "cursor".
func decodeCursor(s string) (pageKey, error) {
	var k pageKey
	b, err := base64.RawURLEncoding.DecodeString(s)
	// A store refuses an id with NUL (Postgres: 22021), so such a cursor is
	// as malformed as any other.
	if err != nil || json.Unmarshal(b, &k) != nil || k.ID == "" || !domain.ValidText(k.ID) {
		return pageKey{}, domain.InvalidField("cursor", "malformed cursor")
	}
	return k, nil
}

// checkLimit validates a page size.
func checkLimit(limit, maxLimit int) error {
	if limit < 1 || limit > maxLimit {
		return domain.InvalidField("limit", fmt.Sprintf("must be between 1 and %d", maxLimit))
	}
	return nil
}

// trimPage cuts rows, read one past limit, to the page and returns the
// cursor of its last row ("" when no page follows). key gives a row's
// keyset position.
func trimPage[R any](rows []R, limit int, key func(R) pageKey) ([]R, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(key(rows[limit-1]))
}

// mapRows converts row structs to domain values.
func mapRows[R, T any](rows []R, conv func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = conv(r)
	}
	return out
}
