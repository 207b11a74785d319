package domain

import (
	"strings"
	"unicode/utf8"
)

// The rule for every string that comes from a request and reaches a store
// (contract §4): valid UTF-8 without NUL. Postgres refuses both in text and
// jsonb, so without this rule hostile input is a 500 from the database, and
// one adapter would differ from another. Input that a client chose on
// purpose (a username, a name, a cursor, a query or path parameter) is
// refused with CheckText; text that is only recorded about a request (a
// User-Agent, a header value) is made storable with CleanText.

// ValidText reports whether s is valid UTF-8 without NUL bytes.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// CheckText is INVALID_REQUEST naming field unless s is ValidText.
func CheckText(field, s string) error {
	if ValidText(s) {
		return nil
	}
	return InvalidField(field, "must be valid UTF-8 without NUL characters")
}

// CleanText makes s valid UTF-8 (invalid bytes become U+FFFD) without NUL
// and at most n bytes long, cutting on a rune boundary, never inside a
// character.
func CleanText(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
