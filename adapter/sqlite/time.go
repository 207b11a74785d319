package sqlite

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// Times are stored as INTEGER microseconds since the Unix epoch: the
// precision the contract keeps (rounded, as Postgres rounds), exact, and
// ordered as numbers for the keyset cursors.

func micros(t time.Time) int64 { return t.UTC().Round(time.Microsecond).UnixMicro() }

func fromMicros(n int64) time.Time { return time.UnixMicro(n).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

func fromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// position is a keyset cursor: the (time µs, id) of the last row of a page.
// Cursors are opaque to clients (base64url of "µs.id").
type position struct {
	at int64
	id string
}

func (p position) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.at, 10) + "." + p.id))
}

// parsePosition decodes a cursor; anything malformed is INVALID_REQUEST on
// the field "cursor".
func parsePosition(s string) (position, error) {
	bad := domain.InvalidField("cursor", "malformed cursor")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, bad
	}
	at, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" || !domain.ValidText(id) {
		return position{}, bad
	}
	return position{at: n, id: id}, nil
}

// pageStart checks a page request and returns where the page starts: the
// cursor's position, or for the first page one before every row (after
// every row, newest first, when descending).
func pageStart(cursor string, limit int, descending bool) (position, error) {
	if err := checkLimit(limit, port.MaxListLimit); err != nil {
		return position{}, err
	}
	if cursor != "" {
		return parsePosition(cursor)
	}
	if descending {
		return position{at: 1<<63 - 1}, nil
	}
	return position{at: -1 << 63}, nil
}

// checkLimit validates a page size.
func checkLimit(limit, maxLimit int) error {
	if limit < 1 || limit > maxLimit {
		return domain.InvalidField("limit", fmt.Sprintf("must be between 1 and %d", maxLimit))
	}
	return nil
}

// page cuts rows, read one past limit, to the page, converts them and
// returns the cursor of the last row ("" when no page follows).
func page[R, T any](rows []R, limit int, pos func(R) position, conv func(R) (T, error)) ([]T, string, error) {
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = pos(rows[limit-1]).String()
	}
	out := make([]T, len(rows))
	for i, r := range rows {
		v, err := conv(r)
		if err != nil {
			return nil, "", err
		}
		out[i] = v
	}
	return out, next, nil
}
