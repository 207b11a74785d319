package porttest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// OutboxWrite stores entries in the outbox under test as committed changes
// would have, stamped age ago by the outbox's own clock.
type OutboxWrite func(t *testing.T, age time.Duration, entries ...port.FeedEntry)

// InvalidationOutbox runs the contract of port.InvalidationOutbox.
// newOutbox returns the outbox under test and a way to write into it. Each
// subtest first drains whatever earlier tests left.
func InvalidationOutbox(t *testing.T, newOutbox func(t *testing.T) (port.InvalidationOutbox, OutboxWrite)) {
	ctx := context.Background()
	key := func() port.FeedEntry { return port.FeedEntry{KeyID: domain.NewID()} }
	owner := func() port.FeedEntry { return port.FeedEntry{OwnerID: domain.NewID()} }

	// fresh returns an outbox holding nothing that is already written.
	fresh := func(t *testing.T) (port.InvalidationOutbox, OutboxWrite) {
		t.Helper()
		ob, write := newOutbox(t)
		for {
			n, err := ob.Drain(ctx, 0, port.MaxListLimit, func([]port.FeedEntry) error { return nil })
			noErr(t, err)
			if n == 0 {
				return ob, write
			}
		}
	}

	t.Run("an empty outbox publishes nothing", func(t *testing.T) {
		ob, _ := fresh(t)
		n, err := ob.Drain(ctx, 0, 10, func([]port.FeedEntry) error {
			t.Fatal("publish called with nothing to publish")
			return nil
		})
		noErr(t, err)
		if n != 0 {
			t.Fatalf("Drain = %d, want 0", n)
		}
	})

	t.Run("entries come out once, in the order written, keys and owners alike", func(t *testing.T) {
		ob, write := fresh(t)
		want := []port.FeedEntry{key(), owner(), key()}
		write(t, time.Minute, want[0], want[1])
		write(t, time.Minute, want[2])
		got := drainOutbox(t, ob, 30*time.Second, 10)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("published %+v, want %+v", got, want)
		}
		if again := drainOutbox(t, ob, 0, 10); len(again) != 0 {
			t.Fatalf("a second drain published %+v, want nothing (published entries are deleted)", again)
		}
	})

	t.Run("entries younger than olderThan stay for a later drain", func(t *testing.T) {
		ob, write := fresh(t)
		old, young := key(), owner()
		write(t, time.Hour, old)
		write(t, 0, young)
		if got := drainOutbox(t, ob, 30*time.Minute, 10); !reflect.DeepEqual(got, []port.FeedEntry{old}) {
			t.Fatalf("published %+v, want only the hour-old entry", got)
		}
		if got := drainOutbox(t, ob, 0, 10); !reflect.DeepEqual(got, []port.FeedEntry{young}) {
			t.Fatalf("published %+v, want the young entry once it is old enough", got)
		}
	})

	t.Run("a drain takes at most limit entries, oldest first", func(t *testing.T) {
		ob, write := fresh(t)
		want := []port.FeedEntry{key(), key(), owner(), key(), owner()}
		write(t, time.Minute, want...)
		var got []port.FeedEntry
		for _, size := range []int{2, 2, 1} {
			page := drainOutbox(t, ob, 0, 2)
			if len(page) != size {
				t.Fatalf("drain of limit 2 published %d entries, want %d", len(page), size)
			}
			got = append(got, page...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("published %+v, want %+v", got, want)
		}
	})

	t.Run("a failed publish deletes nothing and its error is returned", func(t *testing.T) {
		ob, write := fresh(t)
		want := []port.FeedEntry{key(), owner()}
		write(t, time.Minute, want...)
		boom := errors.New("feed unreachable")
		var tried []port.FeedEntry
		n, err := ob.Drain(ctx, 0, 10, func(e []port.FeedEntry) error { tried = e; return boom })
		if !errors.Is(err, boom) || n != 0 {
			t.Fatalf("Drain = %d, %v; want 0 and the publish error", n, err)
		}
		if !reflect.DeepEqual(tried, want) {
			t.Fatalf("publish was offered %+v, want %+v", tried, want)
		}
		if got := drainOutbox(t, ob, 0, 10); !reflect.DeepEqual(got, want) {
			t.Fatalf("after a failed publish the next drain published %+v, want %+v again", got, want)
		}
	})

	t.Run("a concurrent drain skips the entries another holds instead of waiting", func(t *testing.T) {
		ob, write := fresh(t)
		first, second := key(), owner()
		write(t, time.Minute, first)
		entered, release := make(chan struct{}), make(chan struct{})
		type result struct {
			got []port.FeedEntry
			n   int
			err error
		}
		done := make(chan result, 1)
		go func() {
			var r result
			r.n, r.err = ob.Drain(ctx, 0, 10, func(e []port.FeedEntry) error {
				r.got = e
				close(entered)
				<-release
				return nil
			})
			done <- r
		}()
		<-entered
		write(t, time.Minute, second)
		// Were this drain to wait for the first one's entries, it would wait
		// for ever (the first waits for release): bound it.
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var got []port.FeedEntry
		n, err := ob.Drain(waitCtx, 0, 10, func(e []port.FeedEntry) error { got = e; return nil })
		cancel()
		close(release)
		r := <-done
		noErr(t, err)
		noErr(t, r.err)
		if n != 1 || !reflect.DeepEqual(got, []port.FeedEntry{second}) {
			t.Fatalf("the concurrent drain published %d: %+v; want only the entry the first does not hold", n, got)
		}
		if r.n != 1 || !reflect.DeepEqual(r.got, []port.FeedEntry{first}) {
			t.Fatalf("the first drain published %d: %+v; want its own entry", r.n, r.got)
		}
		if left := drainOutbox(t, ob, 0, 10); len(left) != 0 {
			t.Fatalf("left after both drains: %+v, want nothing", left)
		}
	})

	t.Run("a limit below 1 is refused", func(t *testing.T) {
		ob, _ := fresh(t)
		_, err := ob.Drain(ctx, 0, 0, func([]port.FeedEntry) error { return nil })
		wantErr(t, err, domain.ErrInvalid)
	})
}

// drainOutbox runs one successful Drain and returns what it published, checking
// that its count agrees.
func drainOutbox(t *testing.T, ob port.InvalidationOutbox, olderThan time.Duration, limit int) []port.FeedEntry {
	t.Helper()
	var got []port.FeedEntry
	n, err := ob.Drain(context.Background(), olderThan, limit, func(e []port.FeedEntry) error {
		got = append(got, e...)
		return nil
	})
	noErr(t, err)
	if n != len(got) {
		t.Fatalf("Drain = %d, but it published %d entries", n, len(got))
	}
	return got
}
