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
//
// Built with NewKeptReplayGuard it is the embedded mode's guard: each
// digest is also written to a port.KeptState (the SQLite file) before Seen
// answers, and Restore loads the digests still inside their window, so a
// restart does not reopen the replay window.
type ReplayGuard struct {
	clock port.Clock
	kept  port.KeptState // nil: nothing survives the process

	mu     sync.Mutex
	seen   map[string]time.Time // digest → expiry
	writes int
}

var _ port.WebhookReplayGuard = (*ReplayGuard)(nil)

// NewReplayGuard returns an empty guard that tells time by clock.
func NewReplayGuard(clock port.Clock) *ReplayGuard {
	return &ReplayGuard{clock: clock, seen: make(map[string]time.Time)}
}

// keptReplay is the kind of the guard's entries in a port.KeptState.
const keptReplay = "replay"

// NewKeptReplayGuard returns an empty guard that also writes every digest
// to kept; call Restore before serving.
func NewKeptReplayGuard(clock port.Clock, kept port.KeptState) *ReplayGuard {
	g := NewReplayGuard(clock)
	g.kept = kept
	return g
}

// Restore loads the kept digests still inside their window.
func (g *ReplayGuard) Restore(ctx context.Context) error {
	if g.kept == nil {
		return nil
	}
	entries, err := g.kept.Load(ctx, g.clock.Now())
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range entries {
		if e.Kind == keptReplay && e.Until.After(g.seen[e.Key]) {
			g.seen[e.Key] = e.Until
		}
	}
	return nil
}

// Seen records digest until now+ttl and reports whether it was recorded
// and unexpired before.
func (g *ReplayGuard) Seen(ctx context.Context, digest string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, domain.Unavailable("replay guard", err)
	}
	now := g.clock.Now()
	g.mu.Lock()
	if until, ok := g.seen[digest]; ok && now.Before(until) {
		g.mu.Unlock()
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
	g.mu.Unlock()
	if g.kept != nil {
		if err := g.kept.Keep(ctx, port.KeptEntry{Kind: keptReplay, Key: digest, Until: now.Add(ttl)}); err != nil {
			return false, domain.Unavailable("replay guard", err)
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
