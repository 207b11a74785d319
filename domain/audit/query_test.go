package audit_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 123456000, time.UTC)

func fieldsOf(err error) []string {
	var out []string
	for _, d := range domain.As(err).Details {
		out = append(out, d.Field)
	}
	return out
}

func TestQueryNormalized(t *testing.T) {
	t.Parallel()
	good := audit.EncodeCursor(audit.Position{Time: t0, ID: "abc"})
	tests := []struct {
		name      string
		q         audit.Query
		wantLimit int
		wantBad   []string
	}{
		{name: "zero query gets the default limit", q: audit.Query{}, wantLimit: audit.DefaultLimit},
		{name: "limit 1", q: audit.Query{Limit: 1}, wantLimit: 1},
		{name: "limit max", q: audit.Query{Limit: audit.MaxLimit}, wantLimit: audit.MaxLimit},
		{name: "limit over max", q: audit.Query{Limit: audit.MaxLimit + 1}, wantBad: []string{"limit"}},
		{name: "negative limit", q: audit.Query{Limit: -1}, wantBad: []string{"limit"}},
		{name: "from equal to to", q: audit.Query{From: t0, To: t0}, wantLimit: audit.DefaultLimit},
		{name: "from after to", q: audit.Query{From: t0.Add(time.Second), To: t0}, wantBad: []string{"to"}},
		{name: "only from", q: audit.Query{From: t0}, wantLimit: audit.DefaultLimit},
		{name: "good cursor", q: audit.Query{Cursor: good}, wantLimit: audit.DefaultLimit},
		{name: "bad cursor", q: audit.Query{Cursor: "!!"}, wantBad: []string{"cursor"}},
		{name: "any action string", q: audit.Query{Action: "custom.thing"}, wantLimit: audit.DefaultLimit},
		{name: "action too long", q: audit.Query{Action: audit.Action(strings.Repeat("a", 65))}, wantBad: []string{"action"}},
		{name: "action with NUL", q: audit.Query{Action: "auth.login\x00"}, wantBad: []string{"action"}},
		{name: "actor invalid UTF-8", q: audit.Query{ActorID: "\xff"}, wantBad: []string{"actor"}},
		{name: "actor too long", q: audit.Query{ActorID: strings.Repeat("a", 129)}, wantBad: []string{"actor"}},
		{
			name:    "every problem at once",
			q:       audit.Query{Limit: 999, ActorID: "\n", Action: "\t", From: t0, To: t0.Add(-time.Second), Cursor: "x"},
			wantBad: []string{"limit", "actor", "action", "to", "cursor"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.q.Normalized()
			if tc.wantBad != nil {
				if !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("err = %v, want INVALID_REQUEST", err)
				}
				if f := fieldsOf(err); strings.Join(f, ",") != strings.Join(tc.wantBad, ",") {
					t.Fatalf("fields = %v, want %v", f, tc.wantBad)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.Limit != tc.wantLimit {
				t.Fatalf("limit = %d, want %d", got.Limit, tc.wantLimit)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	local := time.FixedZone("x", 3600)
	for _, p := range []audit.Position{
		{Time: t0, ID: "0123456789abcdef0123456789abcdef"},
		{Time: t0.In(local), ID: "a|b"},
		{Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), ID: "z"},
	} {
		c := audit.EncodeCursor(p)
		got, err := audit.ParseCursor(c)
		if err != nil {
			t.Fatalf("ParseCursor(%q) = %v", c, err)
		}
		if !got.Time.Equal(p.Time) || got.ID != p.ID || got.Time.Location() != time.UTC {
			t.Fatalf("round trip %+v → %+v", p, got)
		}
	}
}

func TestCursorTruncatesToMicroseconds(t *testing.T) {
	t.Parallel()
	p := audit.Position{Time: t0.Add(999), ID: "a"}
	got, err := audit.ParseCursor(audit.EncodeCursor(p))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(t0) {
		t.Fatalf("time = %v, want %v", got.Time, t0)
	}
}

func TestParseCursorRefusesMalformed(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return b64(s) }
	for _, c := range []string{
		"", "not a cursor!", "e30", enc("2026-01-27T10:00:00.000000Z"), enc("2026-01-27T10:00:00.000000Z|"),
		enc("yesterday|abc"), enc("2026-01-27T10:00:00Z|abc"), enc("2026-01-27T10:00:00.000000Z|a\x00b"),
		enc("2026-01-27T10:00:00.000000+01:00|abc"), enc("2026-01-27T10:00:00.000000Z|" + strings.Repeat("a", 129)),
		strings.Repeat("A", 600),
	} {
		if _, err := audit.ParseCursor(c); !errors.Is(err, domain.ErrInvalid) || fieldsOf(err)[0] != "cursor" {
			t.Errorf("ParseCursor(%q) = %v, want INVALID_REQUEST on cursor", c, err)
		}
	}
}

func TestPositionAfter(t *testing.T) {
	t.Parallel()
	p := audit.Position{Time: t0, ID: "m"}
	tests := []struct {
		t    time.Time
		id   string
		want bool
	}{
		{t0.Add(-time.Microsecond), "z", true},
		{t0.Add(time.Microsecond), "a", false},
		{t0, "l", true},
		{t0, "m", false},
		{t0, "n", false},
	}
	for _, tc := range tests {
		if got := p.After(tc.t, tc.id); got != tc.want {
			t.Errorf("After(%v, %q) = %v, want %v", tc.t, tc.id, got, tc.want)
		}
	}
}

// FuzzParseCursor: cursors come from clients. Parsing never panics, and
// whatever parses re-encodes to the same cursor (one position, one cursor).
func FuzzParseCursor(f *testing.F) {
	f.Add(audit.EncodeCursor(audit.Position{Time: t0, ID: "abc"}))
	f.Add("")
	f.Add("e30")
	f.Add(b64("2026-01-27T10:00:00.000000Z|x"))
	f.Add(b64("0000-01-01T00:00:00.000000Z|x"))
	f.Add(b64("2026-01-27T10:00:00.000000Z|\xff"))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := audit.ParseCursor(s)
		if err != nil {
			if !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("error %v is not INVALID_REQUEST", err)
			}
			return
		}
		if audit.EncodeCursor(p) != s {
			t.Fatalf("cursor %q parsed to %+v, which encodes differently", s, p)
		}
		if !utf8.ValidString(p.ID) || p.ID == "" {
			t.Fatalf("bad id %q", p.ID)
		}
	})
}

func TestQueryNormalizedRoundsTimesToMicroseconds(t *testing.T) {
	t.Parallel()
	q, err := audit.Query{From: t0.Add(400), To: t0.Add(time.Second + 600)}.Normalized()
	if err != nil {
		t.Fatal(err)
	}
	if !q.From.Equal(t0) || !q.To.Equal(t0.Add(time.Second+time.Microsecond)) {
		t.Fatalf("from %v to %v: want them rounded to microseconds", q.From, q.To)
	}
	if q, _ := (audit.Query{}).Normalized(); !q.From.IsZero() || !q.To.IsZero() {
		t.Fatal("zero times must stay zero (no filter)")
	}
}
