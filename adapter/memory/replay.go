package memory

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// ReplayGuard is an in-process port.WebhookReplayGuard whose entries expire
// by the injected clock. It only protects one process; several instances
// need the Redis adapter.
type ReplayGuard struct {
	clock port.Clock

	mu     sync.Mutex
	seen   map[string]time.Time // digest → expiry
	writes int
}

var _ port.WebhookReplayGuard = (*ReplayGuard)(nil)

// NewReplayGuard returns an empty guard that tells time by clock.
func NewReplayGuard(clock port.Clock) *ReplayGuard {
	return &ReplayGuard{clock: clock, seen: make(map[string]time.Time)}
}

// Seen records digest until now+ttl and reports whether it was recorded
// and unexpired before.
func (g *ReplayGuard) Seen(ctx context.Context, digest string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, domain.Unavailable("replay guard", err)
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if until, ok := g.seen[digest]; ok && now.Before(until) {
		return true, nil
	}
	g.seen[digest] = now.Add(ttl)
	g.writes++
	if g.writes%sweepEvery == 0 {
		for d, until := range g.seen {
			if !now.Before(until) {
				delete(g.seen, d)
			}
		}
	}
	return false, nil
}

// Forget removes digest.
func (g *ReplayGuard) Forget(ctx context.Context, digest string) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("replay guard", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.seen, digest)
	return nil
}
