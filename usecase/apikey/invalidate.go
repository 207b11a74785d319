package apikey

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// LocalInvalidator is the port.KeyInvalidator of the embedded mode: one
// process, so its one Cache is every instance's, and Invalidate applies the
// entries to it at once. A nil Cache makes it do nothing.
type LocalInvalidator struct {
	Cache *Cache
}

var _ port.KeyInvalidator = LocalInvalidator{}

// Invalidate applies entries to the cache before it returns; it never fails.
func (l LocalInvalidator) Invalidate(_ context.Context, entries ...port.FeedEntry) error {
	if l.Cache == nil {
		return nil
	}
	for _, e := range entries {
		l.Cache.Apply(e)
	}
	return nil
}

// Invalidate tells every instance's key cache about entries through inv, if
// there is one (nil: no cache in use, nothing to tell). Call it after the
// store committed the change: invalidating first would let a fill in flight
// cache the old row again. A failure is 503: the change is committed, but
// some instance may still accept what it stopped, so the call must not
// report success (its outbox row, in the multi-instance mode, still
// reaches every instance within the relay's period).
func Invalidate(ctx context.Context, inv port.KeyInvalidator, entries ...port.FeedEntry) error {
	if inv == nil || len(entries) == 0 {
		return nil
	}
	if err := inv.Invalidate(ctx, entries...); err != nil {
		return domain.Unavailable("api key cache invalidation", err)
	}
	return nil
}

// MayHaveCommitted reports whether a store write that returned err may
// have changed something: it succeeded, or it failed in a way (a lost
// connection, an internal error) that leaves its commit in doubt. A refusal
// (not found, conflict, invalid, forbidden) changed nothing. Callers
// invalidate whenever it is true: a needless invalidation costs one cache
// fill, a missing one a stale grant.
func MayHaveCommitted(err error) bool {
	if err == nil {
		return true
	}
	switch domain.KindOf(err) {
	case domain.KindUnavailable, domain.KindInternal:
		return true
	}
	return false
}
