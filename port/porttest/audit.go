package porttest

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
)

// AuditStore runs the contract of port.AuditStore. Every subtest writes under
// a fresh actor, action or time window, so data left by earlier subtests (or
// earlier runs on the same database) never changes what it reads.
func AuditStore(t *testing.T, newStore func(t *testing.T) port.AuditStore) {
	ctx := context.Background()

	t.Run("insert then list returns every field", func(t *testing.T) {
		s := newStore(t)
		e := auditEvent(domain.NewID(), auditWindow().Add(1500*time.Nanosecond))
		e.ActorName = "alice"
		e.TargetType = "user"
		e.TargetID = domain.NewID()
		e.IP = "2001:db8::1"
		e.UserAgent = "curl/8.5"
		e.Outcome = audit.OutcomeDenied
		e.Metadata = map[string]string{"method": "jwt", "reason": "throttled", "empty": ""}
		e.Time = e.Time.In(time.FixedZone("CET", 3600))
		noErr(t, s.Insert(ctx, []audit.Event{e}))
		got := auditList(t, s, audit.Query{ActorID: e.ActorID})
		if len(got.Events) != 1 || got.NextCursor != "" {
			t.Fatalf("got %d events, cursor %q; want 1 and none", len(got.Events), got.NextCursor)
		}
		want := e
		want.Time = e.Time.UTC().Round(time.Microsecond)
		auditSame(t, got.Events[0], want)
		if got.Events[0].Time.Location() != time.UTC {
			t.Fatalf("time %v is not in UTC", got.Events[0].Time)
		}
	})

	t.Run("an empty batch does nothing", func(t *testing.T) {
		s := newStore(t)
		noErr(t, s.Insert(ctx, nil))
		noErr(t, s.Insert(ctx, []audit.Event{}))
	})

	t.Run("events without metadata have nil metadata", func(t *testing.T) {
		s := newStore(t)
		actor := domain.NewID()
		a := auditEvent(actor, auditWindow())
		b := auditEvent(actor, a.Time.Add(time.Second))
		b.Metadata = map[string]string{}
		noErr(t, s.Insert(ctx, []audit.Event{a, b}))
		for _, e := range auditList(t, s, audit.Query{ActorID: actor}).Events {
			if e.Metadata != nil {
				t.Fatalf("metadata = %#v, want nil", e.Metadata)
			}
		}
	})

	t.Run("newest first, ties broken by id descending", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		var batch []audit.Event
		for i, off := range []int{3, 1, 2, 2, 2, 0, 5} {
			e := auditEvent(actor, w.Add(time.Duration(off)*time.Minute))
			e.ID = fmt.Sprintf("%s-%d", actor[:8], i)
			batch = append(batch, e)
		}
		noErr(t, s.Insert(ctx, batch))
		got := auditList(t, s, audit.Query{ActorID: actor})
		auditWantOrder(t, got.Events, auditSorted(batch))
	})

	t.Run("filters by actor, action and time range", func(t *testing.T) {
		s := newStore(t)
		w := auditWindow()
		alice, bob := domain.NewID(), domain.NewID()
		login, logout := auditAction("login"), auditAction("logout")
		var batch []audit.Event
		for i := range 6 {
			actor, action := alice, login
			if i%2 == 1 {
				actor = bob
			}
			if i >= 3 {
				action = logout
			}
			e := auditEvent(actor, w.Add(time.Duration(i)*time.Minute))
			e.Action = action
			batch = append(batch, e)
		}
		anon := auditEvent("", w.Add(10*time.Minute))
		anon.Action = login
		anon.ActorName = "mallory"
		batch = append(batch, anon)
		noErr(t, s.Insert(ctx, batch))

		tests := []struct {
			name string
			q    audit.Query
			want []audit.Event
		}{
			{"actor", audit.Query{ActorID: alice}, []audit.Event{batch[4], batch[2], batch[0]}},
			{"action", audit.Query{Action: logout}, []audit.Event{batch[5], batch[4], batch[3]}},
			{"action includes anonymous events", audit.Query{Action: login}, []audit.Event{anon, batch[2], batch[1], batch[0]}},
			{"actor and action", audit.Query{ActorID: bob, Action: login}, []audit.Event{batch[1]}},
			{"from is inclusive", audit.Query{Action: login, From: batch[2].Time}, []audit.Event{anon, batch[2]}},
			{"to is exclusive", audit.Query{Action: login, To: batch[2].Time}, []audit.Event{batch[1], batch[0]}},
			{"from and to", audit.Query{ActorID: bob, From: w.Add(time.Minute), To: w.Add(5 * time.Minute)}, []audit.Event{batch[3], batch[1]}},
			{"empty range", audit.Query{ActorID: alice, From: w, To: w}, nil},
			{"unknown actor", audit.Query{ActorID: domain.NewID()}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := auditList(t, s, tc.q)
				auditWantOrder(t, got.Events, tc.want)
				if got.NextCursor != "" {
					t.Fatalf("next cursor %q on the only page", got.NextCursor)
				}
			})
		}
	})

	t.Run("pages through many events without gaps or repeats", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		var batch []audit.Event
		for i := range 11 {
			// Pairs share a timestamp, so page boundaries fall inside ties.
			batch = append(batch, auditEvent(actor, w.Add(time.Duration(i/2)*time.Second)))
		}
		noErr(t, s.Insert(ctx, batch))
		var seen []audit.Event
		q := audit.Query{ActorID: actor, Limit: 3}
		for pages := 1; ; pages++ {
			if pages > 4 {
				t.Fatal("more than 4 pages of 3 for 11 events")
			}
			p := auditList(t, s, q)
			seen = append(seen, p.Events...)
			if p.NextCursor == "" {
				if len(p.Events) != 2 || pages != 4 {
					t.Fatalf("last page: %d events on page %d; want 2 on page 4", len(p.Events), pages)
				}
				break
			}
			if len(p.Events) != 3 {
				t.Fatalf("page %d has %d events and a next cursor", pages, len(p.Events))
			}
			q.Cursor = p.NextCursor
		}
		auditWantOrder(t, seen, auditSorted(batch))
	})

	t.Run("a full last page has no next cursor", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		batch := []audit.Event{auditEvent(actor, w), auditEvent(actor, w.Add(time.Second)), auditEvent(actor, w.Add(2*time.Second))}
		noErr(t, s.Insert(ctx, batch))
		p := auditList(t, s, audit.Query{ActorID: actor, Limit: 3})
		if len(p.Events) != 3 || p.NextCursor != "" {
			t.Fatalf("got %d events, cursor %q; want 3 and none", len(p.Events), p.NextCursor)
		}
	})

	t.Run("cursors stay valid while new events arrive", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		var batch []audit.Event
		for i := range 4 {
			batch = append(batch, auditEvent(actor, w.Add(time.Duration(i)*time.Second)))
		}
		noErr(t, s.Insert(ctx, batch))
		first := auditList(t, s, audit.Query{ActorID: actor, Limit: 2})
		noErr(t, s.Insert(ctx, []audit.Event{auditEvent(actor, w.Add(time.Hour))}))
		second := auditList(t, s, audit.Query{ActorID: actor, Limit: 2, Cursor: first.NextCursor})
		auditWantOrder(t, second.Events, []audit.Event{batch[1], batch[0]})
		if second.NextCursor != "" {
			t.Fatalf("next cursor %q after the oldest event", second.NextCursor)
		}
	})

	t.Run("limit defaults to 50 and is capped at 200", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		var batch []audit.Event
		for i := range audit.MaxLimit + 5 {
			batch = append(batch, auditEvent(actor, w.Add(time.Duration(i)*time.Millisecond)))
		}
		noErr(t, s.Insert(ctx, batch))
		p := auditList(t, s, audit.Query{ActorID: actor})
		if len(p.Events) != audit.DefaultLimit || p.NextCursor == "" {
			t.Fatalf("default page: %d events, cursor %q; want %d and a cursor", len(p.Events), p.NextCursor, audit.DefaultLimit)
		}
		p = auditList(t, s, audit.Query{ActorID: actor, Limit: audit.MaxLimit})
		if len(p.Events) != audit.MaxLimit || p.NextCursor == "" {
			t.Fatalf("max page: %d events; want %d and a cursor", len(p.Events), audit.MaxLimit)
		}
		p = auditList(t, s, audit.Query{ActorID: actor, Limit: audit.MaxLimit, Cursor: p.NextCursor})
		if len(p.Events) != 5 || p.NextCursor != "" {
			t.Fatalf("rest: %d events, cursor %q; want 5 and none", len(p.Events), p.NextCursor)
		}
		for _, l := range []int{-1, audit.MaxLimit + 1, 1 << 30} {
			_, err := s.List(ctx, audit.Query{ActorID: actor, Limit: l})
			wantInvalidField(t, err, "limit")
		}
	})

	t.Run("refuses malformed cursors and bad filters", func(t *testing.T) {
		s := newStore(t)
		for _, c := range append([]string{"not a cursor!", "e30", "bm90LWpzb24", strings.Repeat("A", 1000)}, unstorableCursors...) {
			_, err := s.List(ctx, audit.Query{Cursor: c})
			wantInvalidField(t, err, "cursor")
		}
		_, err := s.List(ctx, audit.Query{ActorID: "a\x00b"})
		wantInvalidField(t, err, "actor")
		_, err = s.List(ctx, audit.Query{Action: "\xff"})
		wantInvalidField(t, err, "action")
		w := auditWindow()
		_, err = s.List(ctx, audit.Query{From: w.Add(time.Second), To: w})
		wantInvalidField(t, err, "to")
	})

	t.Run("a repeated id is skipped, so a retried batch is harmless", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		batch := []audit.Event{auditEvent(actor, w), auditEvent(actor, w.Add(time.Second))}
		noErr(t, s.Insert(ctx, batch))
		changed := batch[0]
		changed.ActorName = "someone else"
		noErr(t, s.Insert(ctx, []audit.Event{changed, batch[1], auditEvent(actor, w.Add(2*time.Second))}))
		got := auditList(t, s, audit.Query{ActorID: actor})
		if len(got.Events) != 3 {
			t.Fatalf("got %d events, want 3", len(got.Events))
		}
		auditSame(t, got.Events[2], batch[0])
	})

	t.Run("hostile text is stored sanitized, never refused", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		e := auditEvent(actor, w)
		e.ActorName = "root\x00\xff" + strings.Repeat("x", 5000)
		e.UserAgent = "ua\x00"
		e.Metadata = map[string]string{"k\x00": "\xc3", "json": `{"a":"\u0000"}`}
		good := auditEvent(actor, w.Add(time.Second))
		noErr(t, s.Insert(ctx, []audit.Event{e, good}))
		got := auditList(t, s, audit.Query{ActorID: actor})
		if len(got.Events) != 2 {
			t.Fatalf("got %d events, want 2: one hostile event must not sink its batch", len(got.Events))
		}
		want := e.Sanitized()
		auditSame(t, got.Events[1], want)
	})

	t.Run("one batch can be large", func(t *testing.T) {
		s := newStore(t)
		actor, w := domain.NewID(), auditWindow()
		batch := make([]audit.Event, 3000)
		for i := range batch {
			batch[i] = auditEvent(actor, w.Add(time.Duration(i)*time.Microsecond))
			batch[i].Metadata = map[string]string{"i": fmt.Sprint(i)}
		}
		noErr(t, s.Insert(ctx, batch))
		p := auditList(t, s, audit.Query{ActorID: actor, Limit: 1})
		if len(p.Events) != 1 || p.Events[0].Metadata["i"] != "2999" {
			t.Fatalf("newest of the batch = %+v", p.Events)
		}
	})

	t.Run("a cancelled context is an error", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Insert(cctx, []audit.Event{auditEvent(domain.NewID(), auditWindow())}); err == nil {
			t.Fatal("Insert with a cancelled context succeeded")
		}
		if _, err := s.List(cctx, audit.Query{}); err == nil {
			t.Fatal("List with a cancelled context succeeded")
		}
	})
}

// auditWindow returns a random minute-aligned instant in a span of about
// 100 years, so subtests that filter only by time or action do not meet
// each other's events.
func auditWindow() time.Time {
	return base.Add(time.Duration(rand.IntN(50_000_000)) * time.Minute)
}

func auditAction(name string) audit.Action {
	return audit.Action("test." + name + "." + domain.NewID()[:12])
}

func auditEvent(actor string, at time.Time) audit.Event {
	return audit.Event{
		ID:      domain.NewID(),
		Time:    at,
		ActorID: actor,
		Action:  audit.ActionLogin,
		Outcome: audit.OutcomeSuccess,
	}
}

func auditList(t *testing.T, s port.AuditStore, q audit.Query) audit.Page {
	t.Helper()
	p, err := s.List(context.Background(), q)
	noErr(t, err)
	return p
}

// auditSorted returns events in the listing order, times as stored.
func auditSorted(events []audit.Event) []audit.Event {
	out := make([]audit.Event, len(events))
	copy(out, events)
	for i := range out {
		out[i].Time = out[i].Time.UTC().Round(time.Microsecond)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && auditBefore(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// auditBefore reports whether a is listed before b (newer, or same time and greater ID).
func auditBefore(a, b audit.Event) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	return a.ID > b.ID
}

func auditWantOrder(t *testing.T, got, want []audit.Event) {
	t.Helper()
	ids := func(es []audit.Event) []string {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	if g, w := ids(got), ids(want); strings.Join(g, ",") != strings.Join(w, ",") {
		t.Fatalf("event ids = %v, want %v", g, w)
	}
}

func auditSame(t *testing.T, got, want audit.Event) {
	t.Helper()
	sameTime(t, "Time", got.Time, want.Time.UTC().Round(time.Microsecond))
	g, w := got, want
	g.Time, w.Time = time.Time{}, time.Time{}
	if len(w.Metadata) == 0 {
		w.Metadata = nil
	}
	if !maps.Equal(g.Metadata, w.Metadata) || (g.Metadata == nil) != (w.Metadata == nil) {
		t.Fatalf("metadata = %#v, want %#v", g.Metadata, w.Metadata)
	}
	g.Metadata, w.Metadata = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("event = %+v, want %+v", g, w)
	}
}
