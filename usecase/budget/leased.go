package budget

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// DefaultMaxKeys is how many keys a Leased keeps slices for unless
// Settings.MaxKeys says otherwise.
const DefaultMaxKeys = 100_000

// MaxValidity caps a slice's validity, whatever Slack × T is.
const MaxValidity = time.Second

// sweepEvery is how many new keys pass between two sweeps of idle slices.
const sweepEvery = 1024

// Settings are a Leased's budget (the leaser's: the same PerMinute and
// Burst) and its slack.
type Settings struct {
	// PerMinute is the sustained rate per key (T = 1 min / PerMinute).
	PerMinute int
	// Burst is how many requests may arrive at once.
	Burst int
	// Slack is the overshoot the shared budget may have in any window, in
	// units (see the package doc); 0 disables leasing.
	Slack int
	// MaxKeys caps the keys slices are kept for; 0 is DefaultMaxKeys.
	MaxKeys int
}

// Leased is a port.RateLimiter that spends leased slices of the shared
// budget locally (see the package doc for its semantics and bound).
type Leased struct {
	leaser   port.BudgetLeaser
	clock    port.Clock
	limit    int           // requests per minute, for the decisions made here
	interval time.Duration // T
	burst    int           // caps the Remaining estimate
	validity time.Duration // v = min(Slack × T, MaxValidity)
	maxSize  int           // min(Slack, Burst): the largest lease asked for
	maxKeys  int

	mu        sync.Mutex
	slices    map[string]*slice
	inserts   int
	nextSweep time.Time
}

var _ port.RateLimiter = (*Leased)(nil)

// slice is one key's local state, guarded by Leased.mu.
type slice struct {
	size        int       // the next lease's want
	granted     int       // units the last lease granted
	left        int       // of them, not yet spent
	sent        time.Time // when the last lease call was sent
	expires     time.Time // sent + validity: left lapses then
	deniedUntil time.Time // the last lease granted nothing: denied until then
	shared      port.RateDecision
	flight      *flight // the lease call in flight, if any
	waiting     int     // requests waiting on flight
}

// flight is one lease call that concurrent requests for a key share.
type flight struct {
	done chan struct{}
	// Set before done is closed.
	err   error
	retry bool // the leader's own context ended: waiters lease themselves
}

// New returns a Leased over leaser (whose budgets are settings.PerMinute and
// settings.Burst) judged by clock.
func New(leaser port.BudgetLeaser, clock port.Clock, settings Settings) (*Leased, error) {
	switch {
	case leaser == nil || clock == nil:
		return nil, errors.New("budget: a leaser and a clock are required")
	case settings.PerMinute < 1 || settings.Burst < 1:
		return nil, fmt.Errorf("budget: requests per minute and burst must be at least 1, got %d and %d", settings.PerMinute, settings.Burst)
	case settings.Slack < 0 || settings.MaxKeys < 0:
		return nil, fmt.Errorf("budget: slack and max keys must not be negative, got %d and %d", settings.Slack, settings.MaxKeys)
	}
	interval := max(time.Minute/time.Duration(settings.PerMinute), time.Microsecond)
	maxKeys := settings.MaxKeys
	if maxKeys == 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Leased{
		leaser: leaser, clock: clock, limit: settings.PerMinute, burst: settings.Burst, interval: interval,
		validity: min(interval*time.Duration(settings.Slack), MaxValidity),
		maxSize:  min(settings.Slack, settings.Burst),
		maxKeys:  maxKeys,
		slices:   make(map[string]*slice),
	}, nil
}

// Validity is how long a slice may be spent from after its lease call was
// sent (v = min(Slack × T, MaxValidity); 0 when leasing is off).
func (l *Leased) Validity() time.Duration { return l.validity }

// Allow spends one unit of key's budget: from the local slice when it holds
// one, else from a new lease (shared with concurrent requests for key).
func (l *Leased) Allow(ctx context.Context, key string) (port.RateDecision, error) {
	if l.maxSize == 0 {
		return l.direct(ctx, key)
	}
	for {
		l.mu.Lock()
		now := l.clock.Now()
		s := l.slices[key]
		if s == nil {
			if s = l.insertLocked(key, now); s == nil {
				l.mu.Unlock()
				return l.direct(ctx, key)
			}
		}
		if now.Before(s.deniedUntil) {
			d := l.deniedLocked(s, now)
			l.mu.Unlock()
			return d, nil
		}
		if s.left > 0 && now.Before(s.expires) {
			s.left--
			d := l.spentLocked(s, now)
			l.mu.Unlock()
			return d, nil
		}
		if f := s.flight; f != nil {
			s.waiting++
			l.mu.Unlock()
			var err error
			select {
			case <-f.done:
				if f.err != nil && !f.retry {
					err = f.err
				}
			case <-ctx.Done():
				err = domain.Unavailable("rate limiter", ctx.Err())
			}
			l.mu.Lock()
			s.waiting--
			l.mu.Unlock()
			if err != nil {
				return port.RateDecision{}, err
			}
			continue
		}
		return l.lease(ctx, key, s, now)
	}
}

// lease leads a lease call for s, sent at now; l.mu is held on entry and
// released on return.
func (l *Leased) lease(ctx context.Context, key string, s *slice, now time.Time) (port.RateDecision, error) {
	want := l.nextSizeLocked(s, now)
	f := &flight{done: make(chan struct{})}
	s.flight = f
	l.mu.Unlock()

	got, err := l.leaser.Lease(ctx, key, want)

	l.mu.Lock()
	s.flight = nil
	var d port.RateDecision
	if err != nil {
		f.err, f.retry = err, ctx.Err() != nil
	} else {
		d = l.landLocked(s, now, want, got)
	}
	l.mu.Unlock()
	close(f.done)
	return d, err
}

// nextSizeLocked is the want of the lease s needs at now (its slice is
// empty or expired): double after a slice that ran out early, what was used
// after one that lapsed with units left, as before otherwise. The size is
// kept only once a lease lands (landLocked), so failed calls change nothing.
func (l *Leased) nextSizeLocked(s *slice, now time.Time) int {
	size := s.size
	switch {
	case s.granted == 0: // no slice yet, or the last lease was a denial
	case s.left == 0 && now.Before(s.expires):
		size *= 2
	case s.left > 0:
		size = s.granted - s.left
	}
	return min(max(size, 1), l.maxSize)
}

// landLocked records a lease of want sent at sent, whose first unit is this
// request's, and returns this request's decision.
func (l *Leased) landLocked(s *slice, sent time.Time, want int, got port.BudgetLease) port.RateDecision {
	s.sent, s.shared, s.size = sent, got.Decision, want
	if got.Granted < 1 {
		s.granted, s.left, s.expires = 0, 0, sent
		s.deniedUntil = sent.Add(got.Decision.RetryAfter)
		got.Decision.Allowed = false
		return got.Decision
	}
	s.granted = min(got.Granted, want)
	s.left = s.granted - 1
	s.expires = sent.Add(min(l.validity, got.ValidFor))
	s.deniedUntil = time.Time{}
	d := l.spentLocked(s, sent)
	d.Limit = got.Decision.Limit
	return d
}

// spentLocked is the decision of a unit just spent from s's slice at now.
// The units still held count as remaining, as they would in the shared
// budget had they not been leased, so for one instance the estimate is the
// shared GCRA's own answer (ResetAfter too: less T per unit held).
func (l *Leased) spentLocked(s *slice, now time.Time) port.RateDecision {
	return port.RateDecision{
		Allowed: true, Limit: l.limit,
		Remaining:  min(max(s.shared.Remaining, 0)+s.left, l.burst),
		ResetAfter: max(s.shared.ResetAfter-now.Sub(s.sent)-l.interval*time.Duration(s.left), 0),
	}
}

// deniedLocked is the decision of a request while s is denied at now.
func (l *Leased) deniedLocked(s *slice, now time.Time) port.RateDecision {
	return port.RateDecision{
		Limit:      l.limit,
		RetryAfter: s.deniedUntil.Sub(now),
		ResetAfter: max(s.shared.ResetAfter-now.Sub(s.sent), 0),
	}
}

// direct is Allow without a slice: one lease of one unit.
func (l *Leased) direct(ctx context.Context, key string) (port.RateDecision, error) {
	got, err := l.leaser.Lease(ctx, key, 1)
	if err != nil {
		return port.RateDecision{}, err
	}
	got.Decision.Allowed = got.Granted > 0
	return got.Decision, nil
}

// insertLocked adds a slice for key, sweeping idle ones first when the map
// is full or sweepEvery keys came since the last sweep (at most once per
// validity). It returns nil when the map is full of live slices.
func (l *Leased) insertLocked(key string, now time.Time) *slice {
	l.inserts++
	full := len(l.slices) >= l.maxKeys
	if (full || l.inserts%sweepEvery == 0) && !now.Before(l.nextSweep) {
		for k, s := range l.slices {
			if s.idle(now) {
				delete(l.slices, k)
			}
		}
		l.nextSweep = now.Add(l.validity)
		full = len(l.slices) >= l.maxKeys
	}
	if full {
		return nil
	}
	s := &slice{size: 1}
	l.slices[key] = s
	return s
}

// idle reports whether s says nothing any more at now: no units to spend,
// no denial, no call in flight (nobody waiting on one).
func (s *slice) idle(now time.Time) bool {
	return s.flight == nil && s.waiting == 0 && !now.Before(s.expires) && !now.Before(s.deniedUntil)
}
