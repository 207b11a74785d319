package port

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain/session"
)

// FeedEntry is one change that every instance's in-process state applies
// (contract §15): a revocation the TokenDenylist enforces, or a change of
// API keys that their positive caches must forget. Exactly one of
// Revocation (Kind set), KeyID or OwnerID is set.
type FeedEntry struct {
	// Revocation is a token, session or user denial, as recorded.
	Revocation session.Revocation
	// KeyID names an API key that changed (revoked, rotated, deleted):
	// cached grants of it must go.
	KeyID string
	// OwnerID names a user whose standing changed (disabled, role changed,
	// deleted): cached grants of every key of theirs must go. A RevokeUser
	// revocation means the same for its user.
	OwnerID string
}

// FeedPosition is where a follower of the RevocationFeed stands: the epoch
// of the copy it loaded (see RevocationCache) and the last entry it applied.
type FeedPosition struct {
	Epoch string
	ID    string
}

// RevocationFeed is the ordered log of every change in FeedEntry, kept with
// the denylist cache (a Redis Stream in the {deny} slot). Every write of the
// TokenDenylist appends its revocation to it atomically (the same script);
// API-key invalidations are appended by Publish. Each instance loads the
// durable record at start, then follows the feed into its in-process set.
//
// The feed is bounded: entries are trimmed once every credential they could
// concern has expired. A follower whose position was trimmed, or whose
// epoch is no longer the cache's (the cache lost its memory and was
// rebuilt, or came back from a snapshot), gets ErrFeedGap and must reload
// from the durable record.
type RevocationFeed interface {
	// Head returns a position in the current epoch from which Follow
	// replays the entries appended in the last replay before the newest one
	// (the newest itself when replay is 0): a follower that loads the
	// durable record after Head and follows from there misses nothing, even
	// an entry appended before Head whose durable copy was written a moment
	// after it (a refresh claim is arbitrated here first, then recorded).
	// Replaying an entry twice is harmless (entries merge). A cache with no epoch (cold) is domain.ErrUnavailable wrapping
	// ErrDenylistCold; an unreachable store is domain.ErrUnavailable.
	Head(ctx context.Context, replay time.Duration) (FeedPosition, error)
	// Follow waits up to block for entries after from and returns them, in
	// order, with the position of the last one (from itself when none came).
	// When it returns nil, every entry appended before the call was sent is
	// in entries or was before from. Errors: ErrFeedGap (reload), wrapped in
	// domain.ErrUnavailable as every failure is; ErrDenylistCold.
	Follow(ctx context.Context, from FeedPosition, block time.Duration) ([]FeedEntry, FeedPosition, error)
	// Publish appends entries (KeyID or OwnerID; revocations are appended by
	// the denylist's own writes). It returns once they are in the feed.
	Publish(ctx context.Context, entries ...FeedEntry) error
}

// ErrFeedGap means a follower cannot continue from its position: entries
// after it were trimmed, or the cache's epoch changed. It must reload.
var ErrFeedGap = errors.New("the revocation feed has a gap at this position: reload from the durable record")

// KeyInvalidator tells every instance's API-key cache that keys changed. The
// use cases call it after the store has committed the change and before they
// answer. Invalidate returns once every instance either has applied the
// entries or will not use its cache (contract §15): for a request, the wait
// is done once, just before the answer (see revocation.CommitWait).
type KeyInvalidator interface {
	Invalidate(ctx context.Context, entries ...FeedEntry) error
}

// BudgetLease is a slice of a shared budget handed to one instance: Granted
// units spent in advance from the shared GCRA, to be spent locally before
// ValidFor has passed (unspent units then lapse). Decision is the shared
// budget's state after the grant (Allowed false and Granted 0 when the
// budget had nothing left, with RetryAfter).
type BudgetLease struct {
	Granted  int
	ValidFor time.Duration
	Decision RateDecision
}

// BudgetLeaser hands out slices of the budgets a RateLimiter spends (the
// same keys and the same GCRA): up to want units at once, fewer near the
// limit, never more than the budget allows at this instant.
type BudgetLeaser interface {
	Lease(ctx context.Context, key string, want int) (BudgetLease, error)
}
