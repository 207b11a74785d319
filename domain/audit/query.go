package audit

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
)

// Page sizes of the audit listing. The cap keeps one admin request from
// pulling the whole table into memory.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Bounds on filter values. They are far above any real actor ID or action
// name; their job is to turn hostile input into a 400 instead of a slow or
// failing query.
const (
	MaxActionLen  = 64
	MaxActorIDLen = 128
	maxCursorLen  = 512
	maxCursorID   = 128
)

// Query selects audit events, newest first. Zero fields do not filter.
// From is inclusive and To exclusive, so consecutive ranges never overlap.
type Query struct {
	ActorID string
	Action  Action
	From    time.Time
	To      time.Time
	// Cursor is the NextCursor of the previous page ("" for the first).
	Cursor string
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
}

// Page is one page of events, newest first. NextCursor is "" on the last page.
type Page struct {
	Events     []Event
	NextCursor string
}

// Position is where a page ended in the (Time desc, ID desc) order; the next
// page holds the events strictly after it. Keyset positions stay valid while
// new events arrive, unlike offsets.
type Position struct {
	Time time.Time
	ID   string
}

// After reports whether the event (t, id) sorts after p in the listing
// order (newest first, then ID descending), i.e. belongs to a later page.
func (p Position) After(t time.Time, id string) bool {
	if !t.Equal(p.Time) {
		return t.Before(p.Time)
	}
	return id < p.ID
}

// Normalized returns q with the default limit applied and From and To
// rounded to microseconds (what stores keep), or an INVALID_REQUEST
// naming every bad field at once. Stores and the list use case both call it,
// so every adapter refuses exactly the same queries.
func (q Query) Normalized() (Query, error) {
	var bad []domain.FieldError
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	// Stores keep microseconds; compare at that precision everywhere.
	q.From = q.From.Round(time.Microsecond)
	q.To = q.To.Round(time.Microsecond)
	if q.Limit < 1 || q.Limit > MaxLimit {
		bad = append(bad, domain.FieldError{Field: "limit", Message: "must be between 1 and 200"})
	}
	if msg := checkFilter(q.ActorID, MaxActorIDLen); msg != "" {
		bad = append(bad, domain.FieldError{Field: "actor", Message: msg})
	}
	if msg := checkFilter(string(q.Action), MaxActionLen); msg != "" {
		bad = append(bad, domain.FieldError{Field: "action", Message: msg})
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		bad = append(bad, domain.FieldError{Field: "to", Message: "must not be before from"})
	}
	if q.Cursor != "" {
		if _, err := ParseCursor(q.Cursor); err != nil {
			bad = append(bad, domain.FieldError{Field: "cursor", Message: "malformed cursor"})
		}
	}
	if len(bad) > 0 {
		return q, domain.Invalid(bad...)
	}
	return q, nil
}

// checkFilter returns why s cannot be a filter value, or "".
func checkFilter(s string, maxLen int) string {
	switch {
	case len(s) > maxLen:
		return "too long"
	case !printable(s):
		return "must be printable UTF-8 text"
	}
	return ""
}

// printable reports whether s is valid UTF-8 without control characters
// (Postgres refuses NUL and invalid UTF-8 in text, which would be a 500).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// EncodeCursor returns the opaque cursor of position p. The time keeps
// microseconds, the precision every store keeps.
func EncodeCursor(p Position) string {
	raw := p.Time.UTC().Format(cursorTime) + "|" + p.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// cursorTime is RFC 3339 with exactly six fractional digits, so equal
// positions always encode to equal cursors.
const cursorTime = "2006-01-02T15:04:05.000000Z07:00"

// ParseCursor decodes a cursor made by EncodeCursor. Cursors come from
// clients, so anything else is a malformed-cursor INVALID_REQUEST.
func ParseCursor(s string) (Position, error) {
	bad := domain.InvalidField("cursor", "malformed cursor")
	if s == "" || len(s) > maxCursorLen {
		return Position{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" || len(id) > maxCursorID || !printable(id) {
		return Position{}, bad
	}
	t, err := time.Parse(cursorTime, ts)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return Position{}, bad
	}
	p := Position{Time: t.UTC(), ID: id}
	// Only the canonical encoding is accepted: one position, one cursor.
	if EncodeCursor(p) != s {
		return Position{}, bad
	}
	return p, nil
}
