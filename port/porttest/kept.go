package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// KeptState runs the contract of port.KeptState.
func KeptState(t *testing.T, newState func(t *testing.T) port.KeptState) {
	ctx := context.Background()
	find := func(t *testing.T, s port.KeptState, at time.Time, kind, key string) (port.KeptEntry, bool) {
		t.Helper()
		all, err := s.Load(ctx, at)
		noErr(t, err)
		for _, e := range all {
			if e.Kind == kind && e.Key == key {
				return e, true
			}
		}
		return port.KeptEntry{}, false
	}

	t.Run("an entry is loaded until its until, then swept", func(t *testing.T) {
		s := newState(t)
		key := domain.NewID()
		noErr(t, s.Keep(ctx, port.KeptEntry{Kind: "jti", Key: key, Num: 7, Text: "x", Until: base.Add(time.Minute)}))
		e, ok := find(t, s, base, "jti", key)
		if !ok || e.Num != 7 || e.Text != "x" || !e.Until.Equal(base.Add(time.Minute)) {
			t.Fatalf("Load = %+v (found %v), want the entry back", e, ok)
		}
		if _, ok := find(t, s, base.Add(time.Minute), "jti", key); ok {
			t.Fatal("an entry is loaded at its until")
		}
		n, err := s.Sweep(ctx, base.Add(time.Minute))
		noErr(t, err)
		if n < 1 {
			t.Fatalf("Sweep deleted %d entries, want at least the expired one", n)
		}
		if _, ok := find(t, s, base, "jti", key); ok {
			t.Fatal("a swept entry is still loaded")
		}
	})

	t.Run("keeping again never moves an entry backwards", func(t *testing.T) {
		s := newState(t)
		key := domain.NewID()
		noErr(t, s.Keep(ctx, port.KeptEntry{Kind: "user", Key: key, Num: 100, Text: "first", Until: base.Add(time.Hour)}))
		noErr(t, s.Keep(ctx, port.KeptEntry{Kind: "user", Key: key, Num: 50, Text: "second", Until: base.Add(time.Minute)}))
		e, _ := find(t, s, base, "user", key)
		if e.Num != 100 || e.Text != "first" || !e.Until.Equal(base.Add(time.Hour)) {
			t.Fatalf("after an older Keep: %+v, want num 100, text first, until +1h", e)
		}
		noErr(t, s.Keep(ctx, port.KeptEntry{Kind: "user", Key: key, Num: 200, Until: base.Add(2 * time.Hour)}))
		e, _ = find(t, s, base, "user", key)
		if e.Num != 200 || e.Text != "first" || !e.Until.Equal(base.Add(2*time.Hour)) {
			t.Fatalf("after a newer Keep: %+v, want num 200, text first, until +2h", e)
		}
	})

	t.Run("kinds are separate maps", func(t *testing.T) {
		s := newState(t)
		key := domain.NewID()
		noErr(t, s.Keep(ctx, port.KeptEntry{Kind: "jti", Key: key, Until: base.Add(time.Minute)}))
		if _, ok := find(t, s, base, "sid", key); ok {
			t.Fatal("a jti entry is loaded as a sid")
		}
	})

	t.Run("concurrent keeps of one entry keep the largest", func(t *testing.T) {
		s := newState(t)
		key := domain.NewID()
		_, errs := allAtOnce(16, func(i int) (struct{}, error) {
			return struct{}{}, s.Keep(ctx, port.KeptEntry{Kind: "sid", Key: key, Num: int64(i), Until: base.Add(time.Duration(i+1) * time.Minute)})
		})
		for _, err := range errs {
			noErr(t, err)
		}
		e, _ := find(t, s, base, "sid", key)
		if e.Num != 15 || !e.Until.Equal(base.Add(16*time.Minute)) {
			t.Fatalf("after 16 concurrent keeps: %+v, want num 15 until +16m", e)
		}
	})
}
