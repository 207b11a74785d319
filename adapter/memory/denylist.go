package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// sweepEvery is how many writes pass between sweeps of expired entries, so a
// long-running single-node process does not keep dead entries forever.
const sweepEvery = 1024

// Denylist is an in-process port.TokenDenylist. Entries expire by the
// injected clock. It is shared only within one process: a multi-instance
// deployment needs the Redis adapter.
type Denylist struct {
	clock port.Clock

	mu       sync.Mutex
	tokens   map[string]time.Time // jti → until
	sessions map[string]time.Time // sid → until
	users    map[string]notBefore // user id → not-before
	claims   map[string]claim     // old jti → successor within grace
	writes   int
}

type notBefore struct {
	unix  int64 // whole seconds; tokens with iat < unix are denied
	until time.Time
}

type claim struct {
	successor string
	until     time.Time // end of the grace
}

var _ port.TokenDenylist = (*Denylist)(nil)

// NewDenylist returns an empty denylist that tells time by clock.
func NewDenylist(clock port.Clock) *Denylist {
	return &Denylist{
		clock:    clock,
		tokens:   make(map[string]time.Time),
		sessions: make(map[string]time.Time),
		users:    make(map[string]notBefore),
		claims:   make(map[string]claim),
	}
}

// Check reports whether the token is denied.
func (d *Denylist) Check(ctx context.Context, c session.Claims) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("denylist", err)
	}
	if c.TokenID == "" || c.SessionID == "" || c.UserID == "" {
		return domain.ErrUnauthenticated
	}
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if until, ok := d.tokens[c.TokenID]; ok && now.Before(until) {
		return domain.ErrUnauthenticated
	}
	if until, ok := d.sessions[c.SessionID]; ok && now.Before(until) {
		return domain.ErrUnauthenticated
	}
	if nb, ok := d.users[c.UserID]; ok && now.Before(nb.until) && c.IssuedAt.Unix() < nb.unix {
		return domain.ErrUnauthenticated
	}
	return nil
}

// DenyToken denies jti until until.
func (d *Denylist) DenyToken(ctx context.Context, jti string, until time.Time) error {
	return d.deny(ctx, d.tokens, jti, until)
}

// DenySession denies every token of sid until until.
func (d *Denylist) DenySession(ctx context.Context, sid string, until time.Time) error {
	return d.deny(ctx, d.sessions, sid, until)
}

func (d *Denylist) deny(ctx context.Context, m map[string]time.Time, id string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("denylist", err)
	}
	if id == "" {
		return domain.Internal(errors.New("denylist: empty id"))
	}
	now := d.clock.Now()
	if !until.After(now) {
		return nil // every token it could deny has expired already
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := m[id]; !ok || until.After(cur) {
		m[id] = until
	}
	d.wroteLocked(now)
	return nil
}

// DenyUserBefore denies the user's tokens issued before notBefore.
func (d *Denylist) DenyUserBefore(ctx context.Context, userID string, nb, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("denylist", err)
	}
	if userID == "" {
		return domain.Internal(errors.New("denylist: empty user id"))
	}
	now := d.clock.Now()
	if !until.After(now) {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	next := notBefore{unix: nb.Unix(), until: until}
	if cur, ok := d.users[userID]; ok && now.Before(cur.until) {
		next.unix = max(next.unix, cur.unix)
		if cur.until.After(next.until) {
			next.until = cur.until
		}
	}
	d.users[userID] = next
	d.wroteLocked(now)
	return nil
}

// ClaimRefresh makes successor the one successor of jti.
func (d *Denylist) ClaimRefresh(ctx context.Context, jti, successor string, grace time.Duration, until time.Time) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", domain.Unavailable("denylist", err)
	}
	if jti == "" || successor == "" {
		return "", domain.Internal(errors.New("denylist: empty jti or successor"))
	}
	now := d.clock.Now()
	if !until.After(now) {
		return "", domain.ErrUnauthenticated
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.claims[jti]; ok && now.Before(c.until) {
		return c.successor, nil
	}
	if u, ok := d.tokens[jti]; ok && now.Before(u) {
		return "", domain.ErrUnauthenticated
	}
	if grace > 0 {
		graceEnd := now.Add(grace)
		if graceEnd.After(until) {
			graceEnd = until
		}
		d.claims[jti] = claim{successor: successor, until: graceEnd}
	}
	if cur, ok := d.tokens[jti]; !ok || until.After(cur) {
		d.tokens[jti] = until
	}
	d.wroteLocked(now)
	return successor, nil
}

// wroteLocked counts a write and now and then drops expired entries. The
// caller holds d.mu.
func (d *Denylist) wroteLocked(now time.Time) {
	d.writes++
	if d.writes%sweepEvery != 0 {
		return
	}
	for k, until := range d.tokens {
		if !now.Before(until) {
			delete(d.tokens, k)
		}
	}
	for k, until := range d.sessions {
		if !now.Before(until) {
			delete(d.sessions, k)
		}
	}
	for k, nb := range d.users {
		if !now.Before(nb.until) {
			delete(d.users, k)
		}
	}
	for k, c := range d.claims {
		if !now.Before(c.until) {
			delete(d.claims, k)
		}
	}
}
