package port

import (
	"context"
	"time"
)

// KeptEntry is one entry of an in-process map that must survive a restart
// (today the webhook replay guard's digests).
type KeptEntry struct {
	// Kind names the map the entry belongs to ("jti", "sid", ...).
	Kind string
	// Key identifies the entry within its kind.
	Key string
	// Num and Text carry its value (a not-before in Unix seconds, a
	// successor token); either may be zero.
	Num  int64
	Text string
	// Until is when the entry stops mattering and may be forgotten.
	Until time.Time
}

// KeptState is where the single-node, in-process adapters of the embedded
// mode (the webhook replay guard) keep what must survive a restart, in the
// same file as the rest of the data. They decide in memory and write here
// before answering, so a digest that was accepted is on disk; at start they
// load it back. Revocations and refresh claims have their own durable
// record, RevocationRecord, the same port in both modes.
type KeptState interface {
	// Keep stores e. If an entry (Kind, Key) exists, it keeps the larger
	// Num and the later Until, and its Text unless that is empty, so
	// concurrent writers of one entry cannot move it backwards.
	Keep(ctx context.Context, e KeptEntry) error
	// Load returns every entry whose Until is after now.
	Load(ctx context.Context, now time.Time) ([]KeptEntry, error)
	// Sweep deletes the entries whose Until is not after now and returns
	// how many it deleted, so the file does not grow without bound.
	Sweep(ctx context.Context, now time.Time) (int, error)
}
