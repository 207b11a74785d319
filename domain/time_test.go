package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2026-01-27T10:00:00Z":           "2026-01-27T10:00:00Z",
		"2026-01-27T12:00:00+02:00":      "2026-01-27T10:00:00Z",
		"9999-12-31T23:59:59Z":           "9999-12-31T23:59:59Z",
		"9999-12-31T23:00:00+01:00":      "9999-12-31T22:00:00Z",
		"2026-01-27T10:00:00.123456789Z": "2026-01-27T10:00:00.123456789Z",
	} {
		got, err := domain.ParseTime("expiresAt", in)
		if err != nil || got.Location() != time.UTC || got.Format(time.RFC3339Nano) != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s in UTC", in, got, err, want)
		}
	}
	for _, in := range []string{
		"9999-12-31T23:59:59-23:59", // 10000-01-01T23:58:59Z
		"9999-12-31T23:59:59-00:01",
		"0001-01-01T00:00:00+00:01", // year 0 in UTC
		"2026-01-27", "2026-01-27 10:00:00Z", "", "tomorrow", "2026-13-01T00:00:00Z",
	} {
		_, err := domain.ParseTime("expiresAt", in)
		if !errors.Is(err, domain.ErrInvalid) || domain.As(err).Details[0].Field != "expiresAt" {
			t.Errorf("ParseTime(%q) = %v, want INVALID_REQUEST naming expiresAt", in, err)
		}
	}
}

func TestTextRules(t *testing.T) {
	t.Parallel()
	for s, valid := range map[string]bool{"": true, "é€😀": true, "a\x00b": false, "\xff": false, "a\xc3": false} {
		if domain.ValidText(s) != valid || (domain.CheckText("f", s) == nil) != valid {
			t.Errorf("ValidText/CheckText(%q) disagree with %v", s, valid)
		}
	}
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 10, "abc"},
		{"aé", 2, "a"},       // é is 2 bytes: never cut in half
		{"a\x00b", 10, "ab"}, // NUL dropped
		{"a\xffb", 10, "a\uFFFDb"},
		{"😀😀", 5, "😀"},
	} {
		if got := domain.CleanText(tc.in, tc.n); got != tc.want {
			t.Errorf("CleanText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
