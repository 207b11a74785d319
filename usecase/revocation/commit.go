package revocation

import (
	"context"
	"sync"
	"time"
)

// Commit-wait (contract §15, "at once on every instance"): a revoking call
// answers only once the lease L has passed since its last write to the
// feed was acknowledged. An instance trusts its in-process set only while
// its last completed read of the feed was sent less than L ago; so when the
// call answers, every instance has either read the write or stopped
// trusting its set (and asks the shared store). It is Chubby's cache rule,
// with the wait on the writer instead of an invalidation round.
//
// One request may write several times (a password change ends each other
// session): the request's Commit collects the writes and is waited for
// once, just before the answer is written (the HTTP adapter does that). A
// write made outside a request's Commit (the CLI, a background job) waits
// by itself before it returns.

type commitKey struct{}

// Commit is the pending wait of one revoking request.
type Commit struct {
	mu    sync.Mutex
	until time.Time // monotonic: time.Now() readings only
}

// WithCommit returns ctx carrying a new Commit; the caller waits for it
// (Commit.Wait) before answering.
func WithCommit(ctx context.Context) (context.Context, *Commit) {
	c := &Commit{}
	return context.WithValue(ctx, commitKey{}, c), c
}

// Wait blocks until every write noted in c has been acknowledged for its
// lease, or ctx ends.
func (c *Commit) Wait(ctx context.Context) {
	c.mu.Lock()
	until := c.until
	c.mu.Unlock()
	sleepUntil(ctx, until)
}

// noteWrite records that a write was acknowledged now and must be waited
// for during lease: by ctx's Commit, or here and now when there is none.
func noteWrite(ctx context.Context, lease time.Duration) {
	if lease <= 0 {
		return
	}
	until := time.Now().Add(lease)
	if c, ok := ctx.Value(commitKey{}).(*Commit); ok {
		c.mu.Lock()
		if until.After(c.until) {
			c.until = until
		}
		c.mu.Unlock()
		return
	}
	sleepUntil(ctx, until)
}

func sleepUntil(ctx context.Context, until time.Time) {
	d := time.Until(until)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
