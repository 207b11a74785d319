package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// FeedHarness is one adapter's revocation feed with the denylist whose
// writes append to it.
type FeedHarness struct {
	Denylist port.TokenDenylist
	Feed     port.RevocationFeed
	// Trim deletes every entry appended so far (the store trimming them).
	Trim func(t *testing.T)
	// Lose makes the store lose its memory and be rebuilt (a new epoch).
	Lose func(t *testing.T)
}

// RevocationFeed is the contract of port.RevocationFeed: newHarness returns
// an empty feed whose denylist tells time by clock.
func RevocationFeed(t *testing.T, newHarness func(t *testing.T, clock *memory.Clock) FeedHarness) {
	ctx := context.Background()
	const block = 20 * time.Millisecond
	follow := func(t *testing.T, h FeedHarness, from port.FeedPosition) ([]port.FeedEntry, port.FeedPosition) {
		t.Helper()
		got, next, err := h.Feed.Follow(ctx, from, block)
		if err != nil {
			t.Fatalf("Follow(%+v) = %v", from, err)
		}
		return got, next
	}

	t.Run("every denial and publish is followed in order", func(t *testing.T) {
		clock := memory.NewClock(time.Now())
		h := newHarness(t, clock)
		head, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		now := clock.Now()
		until := now.Add(time.Hour).Truncate(time.Millisecond)
		nb := now.Add(time.Second).Truncate(time.Second)
		jti, sid, uid, refreshed := domain.NewID(), domain.NewID(), domain.NewID(), domain.NewID()
		for _, err := range []error{
			h.Denylist.DenyToken(ctx, jti, until),
			h.Denylist.DenySession(ctx, sid, until),
			h.Denylist.DenyUserBefore(ctx, uid, nb, until),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.Denylist.ClaimRefresh(ctx, refreshed, "successor", time.Second, until); err != nil {
			t.Fatal(err)
		}
		if err := h.Feed.Publish(ctx, port.FeedEntry{KeyID: "key-1"}, port.FeedEntry{OwnerID: uid}); err != nil {
			t.Fatal(err)
		}
		want := []port.FeedEntry{
			{Revocation: session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until}},
			{Revocation: session.Revocation{Kind: session.RevokeSession, ID: sid, Until: until}},
			{Revocation: session.Revocation{Kind: session.RevokeUser, ID: uid, NotBefore: nb, Until: until}},
			{Revocation: session.Revocation{Kind: session.RevokeToken, ID: refreshed, Until: until}},
			{KeyID: "key-1"},
			{OwnerID: uid},
		}
		var got []port.FeedEntry
		pos := head
		for range 20 {
			es, next := follow(t, h, pos)
			got, pos = append(got, es...), next
			if len(got) >= len(want) {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("followed %d entries, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if !sameEntry(got[i], want[i]) {
				t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if es, again := follow(t, h, pos); len(es) != 0 || again != pos {
			t.Fatalf("Follow at the end = %d entries at %+v, want none at %+v", len(es), again, pos)
		}
	})

	t.Run("a follow waiting for entries is woken by one", func(t *testing.T) {
		clock := memory.NewClock(time.Now())
		h := newHarness(t, clock)
		head, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			es  []port.FeedEntry
			err error
		}
		done := make(chan result, 1)
		go func() {
			es, _, err := h.Feed.Follow(ctx, head, 30*time.Second)
			done <- result{es, err}
		}()
		time.Sleep(50 * time.Millisecond) // let it block (a publish before is fine too)
		if err := h.Feed.Publish(ctx, port.FeedEntry{KeyID: "woken"}); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			if r.err != nil || len(r.es) != 1 || r.es[0].KeyID != "woken" {
				t.Fatalf("woken follow = %+v, %v", r.es, r.err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a blocked Follow did not return the entry published meanwhile")
		}
	})

	t.Run("a position trimmed past is a gap, one trimmed up to is not", func(t *testing.T) {
		clock := memory.NewClock(time.Now())
		h := newHarness(t, clock)
		head, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Feed.Publish(ctx, port.FeedEntry{KeyID: "read"}); err != nil {
			t.Fatal(err)
		}
		_, caughtUp := follow(t, h, head)
		if err := h.Denylist.DenyToken(ctx, domain.NewID(), clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		h.Trim(t) // the denial above is gone unread
		_, _, err = h.Feed.Follow(ctx, caughtUp, block)
		if !errors.Is(err, port.ErrFeedGap) || !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("Follow past a trimmed, unread entry = %v, want ErrFeedGap (unavailable)", err)
		}
		fresh, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if es, _ := follow(t, h, fresh); len(es) != 0 {
			t.Fatalf("Follow from the head after the trim = %+v, want nothing", es)
		}
	})

	t.Run("a new epoch is a gap", func(t *testing.T) {
		clock := memory.NewClock(time.Now())
		h := newHarness(t, clock)
		head, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.Lose(t)
		if _, _, err := h.Feed.Follow(ctx, head, block); !errors.Is(err, port.ErrFeedGap) {
			t.Fatalf("Follow from the old epoch = %v, want ErrFeedGap", err)
		}
		again, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if again.Epoch == head.Epoch {
			t.Fatalf("epoch %q kept across a loss", again.Epoch)
		}
		follow(t, h, again)
	})

	t.Run("head with a replay starts before recent entries", func(t *testing.T) {
		clock := memory.NewClock(time.Now())
		h := newHarness(t, clock)
		if err := h.Feed.Publish(ctx, port.FeedEntry{KeyID: "recent"}); err != nil {
			t.Fatal(err)
		}
		replayed, err := h.Feed.Head(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		es, _ := follow(t, h, replayed)
		if len(es) != 1 || es[0].KeyID != "recent" {
			t.Fatalf("followed from a head with a replay: %+v, want the recent entry", es)
		}
		plain, err := h.Feed.Head(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if es, _ := follow(t, h, plain); len(es) != 0 {
			t.Fatalf("followed from the head: %+v, want nothing", es)
		}
	})

	t.Run("publish refuses an entry that names nothing", func(t *testing.T) {
		h := newHarness(t, memory.NewClock(time.Now()))
		if err := h.Feed.Publish(ctx, port.FeedEntry{}); err == nil {
			t.Fatal("Publish of an empty entry succeeded")
		}
	})
}

func sameEntry(a, b port.FeedEntry) bool {
	ra, rb := a.Revocation, b.Revocation
	return a.KeyID == b.KeyID && a.OwnerID == b.OwnerID && ra.Kind == rb.Kind && ra.ID == rb.ID &&
		ra.Until.Equal(rb.Until) && ra.NotBefore.Equal(rb.NotBefore)
}
