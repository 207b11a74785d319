package domain

import "time"

// ParseTime reads a client's RFC 3339 time and returns it in UTC, the form
// in which every time is stored and answered (contract §5). A time that is
// no RFC 3339, or whose UTC form has a year outside 1–9999 (which RFC 3339
// cannot write: "9999-12-31T23:59:59-23:59" is 10000-01-01 in UTC), is
// INVALID_REQUEST naming field.
func ParseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		t = t.UTC()
		if y := t.Year(); y >= 1 && y <= 9999 {
			return t, nil
		}
	}
	return time.Time{}, InvalidField(field, "must be an RFC 3339 date-time with a year of at most 9999 in UTC, e.g. 2026-01-27T10:00:00Z")
}
