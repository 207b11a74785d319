package port

import (
	"context"
	"time"
)

// InvalidationOutbox holds the API-key invalidations that committed changes
// owe the RevocationFeed (contract §15). The store writes them in the same
// transaction as the change they describe (a key revoked or rotated, a user
// whose role, status or existence changed), so a process that dies between
// its commit and its KeyInvalidator call loses no invalidation: a Relay
// publishes what is left. The embedded mode (one process, no feed) has none.
//
// Delivery is at least once: the caller that made the change publishes its
// invalidation itself, and the relay publishes the row again once it is
// olderThan old. Invalidations are idempotent, so twice costs one more cache
// fill, never a wrong answer.
type InvalidationOutbox interface {
	// Drain takes up to limit entries written at least olderThan ago
	// (oldest first), hands them to publish and deletes them, in one
	// transaction: if publish fails, or the deletion does, nothing is
	// deleted and the entries come again on a later Drain (publish's error
	// is returned as it is). Entries another Drain holds are skipped, not
	// waited for, so concurrent relays publish each entry once per attempt.
	// publish is not called when there is nothing to take. Drain returns
	// how many entries it published and deleted.
	Drain(ctx context.Context, olderThan time.Duration, limit int, publish func([]FeedEntry) error) (int, error)
}
