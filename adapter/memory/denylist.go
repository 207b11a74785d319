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
//
// Built with NewKeptDenylist it is the embedded mode's denylist: every
// entry it writes is also written to a port.KeptState (the SQLite file)
// before the call returns, and Restore loads them back at start, so a token
// revoked before a restart is still refused after it. Check never leaves
// the process.
type Denylist struct {
	clock port.Clock
	kept  port.KeptState // nil: nothing survives the process

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

// NewKeptDenylist returns an empty denylist that also writes every entry to
// kept before answering; call Restore before serving.
func NewKeptDenylist(clock port.Clock, kept port.KeptState) *Denylist {
	d := NewDenylist(clock)
	d.kept = kept
	return d
}

// Kinds of the denylist's entries in a port.KeptState.
const (
	keptToken   = "jti"
	keptSession = "sid"
	keptUser    = "user"  // Num: the not-before in Unix seconds
	keptClaim   = "claim" // Text: the successor, kept for the grace only
)

// Restore loads the kept entries still in force. It merges with what is
// already held, keeping the later of both.
func (d *Denylist) Restore(ctx context.Context) error {
	if d.kept == nil {
		return nil
	}
	entries, err := d.kept.Load(ctx, d.clock.Now())
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	later := func(m map[string]time.Time, k string, until time.Time) {
		if cur, ok := m[k]; !ok || until.After(cur) {
			m[k] = until
		}
	}
	for _, e := range entries {
		switch e.Kind {
		case keptToken:
			later(d.tokens, e.Key, e.Until)
		case keptSession:
			later(d.sessions, e.Key, e.Until)
		case keptUser:
			nb := notBefore{unix: e.Num, until: e.Until}
			if cur, ok := d.users[e.Key]; ok {
				nb.unix = max(nb.unix, cur.unix)
				if cur.until.After(nb.until) {
					nb.until = cur.until
				}
			}
			d.users[e.Key] = nb
		case keptClaim:
			if _, ok := d.claims[e.Key]; !ok {
				d.claims[e.Key] = claim{successor: e.Text, until: e.Until}
			}
		}
	}
	return nil
}

// keep writes entries to the kept state, if any. It runs after d.mu is
// released (a write to the file must not hold up Check), and the state
// itself never moves an entry backwards, so racing writers are harmless.
// A failure is ErrUnavailable: the revocation holds in this process but is
// not known to be durable, so the caller must not report success.
func (d *Denylist) keep(ctx context.Context, entries ...port.KeptEntry) error {
	if d.kept == nil {
		return nil
	}
	for _, e := range entries {
		if err := d.kept.Keep(ctx, e); err != nil {
			return domain.Unavailable("denylist", err)
		}
	}
	return nil
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
	return d.deny(ctx, d.tokens, keptToken, jti, until)
}

// DenySession denies every token of sid until until.
func (d *Denylist) DenySession(ctx context.Context, sid string, until time.Time) error {
	return d.deny(ctx, d.sessions, keptSession, sid, until)
}

func (d *Denylist) deny(ctx context.Context, m map[string]time.Time, kind, id string, until time.Time) error {
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
	if cur, ok := m[id]; !ok || until.After(cur) {
		m[id] = until
	}
	d.wroteLocked(now)
	d.mu.Unlock()
	return d.keep(ctx, port.KeptEntry{Kind: kind, Key: id, Until: until})
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
	next := notBefore{unix: nb.Unix(), until: until}
	if cur, ok := d.users[userID]; ok && now.Before(cur.until) {
		next.unix = max(next.unix, cur.unix)
		if cur.until.After(next.until) {
			next.until = cur.until
		}
	}
	d.users[userID] = next
	d.wroteLocked(now)
	d.mu.Unlock()
	return d.keep(ctx, port.KeptEntry{Kind: keptUser, Key: userID, Num: next.unix, Until: next.until})
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
	if c, ok := d.claims[jti]; ok && now.Before(c.until) {
		d.mu.Unlock()
		return c.successor, nil
	}
	if u, ok := d.tokens[jti]; ok && now.Before(u) {
		d.mu.Unlock()
		return "", domain.ErrUnauthenticated
	}
	entries := []port.KeptEntry{{Kind: keptToken, Key: jti, Until: until}}
	if grace > 0 {
		graceEnd := now.Add(grace)
		if graceEnd.After(until) {
			graceEnd = until
		}
		d.claims[jti] = claim{successor: successor, until: graceEnd}
		entries = append(entries, port.KeptEntry{Kind: keptClaim, Key: jti, Text: successor, Until: graceEnd})
	}
	if cur, ok := d.tokens[jti]; !ok || until.After(cur) {
		d.tokens[jti] = until
	}
	d.wroteLocked(now)
	d.mu.Unlock()
	if err := d.keep(ctx, entries...); err != nil {
		return "", err
	}
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
