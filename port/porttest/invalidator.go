package porttest

import (
	"context"
	"sync"

	"github.com/m9m/auth/port"
)

// RecordingInvalidator is a port.KeyInvalidator for tests of its callers:
// it keeps every Invalidate call. Check, when set, runs at the time of the
// call, so a test can look at the store then (the change must already be
// committed); Err, when set, fails the call; otherwise Next, when set, gets
// the entries too.
type RecordingInvalidator struct {
	mu    sync.Mutex
	calls [][]port.FeedEntry
	Check func([]port.FeedEntry)
	Next  port.KeyInvalidator
	Err   error
}

// Invalidate records entries, then runs Check, then fails with Err or
// passes them on to Next.
func (r *RecordingInvalidator) Invalidate(ctx context.Context, entries ...port.FeedEntry) error {
	r.mu.Lock()
	r.calls = append(r.calls, entries)
	check, next, err := r.Check, r.Next, r.Err
	r.mu.Unlock()
	if check != nil {
		check(entries)
	}
	if err != nil {
		return err
	}
	if next != nil {
		return next.Invalidate(ctx, entries...)
	}
	return nil
}

// Calls returns the entries of every call so far, in order.
func (r *RecordingInvalidator) Calls() [][]port.FeedEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]port.FeedEntry(nil), r.calls...)
}
