package memory

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// LoginThrottle is an in-process port.LoginThrottle with fixed windows that
// start at the first failure and end by the injected clock, and the clients
// known to each account.
type LoginThrottle struct {
	cfg   port.ThrottleLimits
	clock port.Clock

	mu       sync.Mutex
	counters map[string]window
	// known maps a username to its known clients and devices, each with the
	// time of its last successful login.
	known  map[string]map[string]time.Time
	writes int
}

type window struct {
	start time.Time
	n     int
}

var _ port.LoginThrottle = (*LoginThrottle)(nil)

// NewLoginThrottle returns a throttle with cfg's limits.
func NewLoginThrottle(cfg port.ThrottleLimits, clock port.Clock) *LoginThrottle {
	return &LoginThrottle{
		cfg: cfg.WithDefaults(), clock: clock,
		counters: make(map[string]window), known: make(map[string]map[string]time.Time),
	}
}

// counter is one of an attempt's three counters and its limit.
type counter struct {
	key   string
	limit int
	// guard marks the per-username counter, which a known client passes.
	guard bool
}

func (l *LoginThrottle) counters3(a port.LoginAttempt) [3]counter {
	return [3]counter{
		{key: "uc\x00" + a.Username + "\x00" + a.Client, limit: l.cfg.MaxPerUser},
		{key: "c\x00" + a.Client, limit: l.cfg.MaxPerIP},
		{key: "u\x00" + a.Username, limit: l.cfg.MaxPerUsername, guard: true},
	}
}

// liveLocked returns the counter at key if its window is still open at now.
func (l *LoginThrottle) liveLocked(key string, now time.Time) (window, bool) {
	w, ok := l.counters[key]
	if !ok || !now.Before(w.start.Add(l.cfg.Window)) {
		return window{}, false
	}
	return w, true
}

// over returns the time left in w's window if w is over limit, else 0.
func (l *LoginThrottle) over(w window, limit int, now time.Time) time.Duration {
	if w.n <= limit {
		return 0
	}
	return w.start.Add(l.cfg.Window).Sub(now)
}

// knownLocked reports whether a's client or device logged in to a's account
// within KnownClientTTL.
func (l *LoginThrottle) knownLocked(a port.LoginAttempt, now time.Time) bool {
	m := l.known[a.Username]
	for _, id := range identities(a) {
		if t, ok := m[id]; ok && now.Before(t.Add(l.cfg.KnownClientTTL)) {
			return true
		}
	}
	return false
}

// identities are the names a's client may be known by.
func identities(a port.LoginAttempt) []string {
	if a.Device == "" {
		return []string{"c\x00" + a.Client}
	}
	return []string{"c\x00" + a.Client, "d\x00" + a.Device}
}

func (l *LoginThrottle) begin(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, domain.Unavailable("throttle", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	return now, nil
}

// Check reports how long the caller must wait, 0 if not throttled.
func (l *LoginThrottle) Check(ctx context.Context, a port.LoginAttempt) (time.Duration, error) {
	now, err := l.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer l.mu.Unlock()
	return l.checkLocked(a, now), nil
}

// Fail counts a failed login in all three counters.
func (l *LoginThrottle) Fail(ctx context.Context, a port.LoginAttempt) (time.Duration, error) {
	now, err := l.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer l.mu.Unlock()
	return l.failLocked(a, now), nil
}

// Reserve is Check and, unless throttled, Fail under one lock.
func (l *LoginThrottle) Reserve(ctx context.Context, a port.LoginAttempt) (time.Duration, error) {
	now, err := l.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer l.mu.Unlock()
	if retry := l.checkLocked(a, now); retry > 0 {
		return retry, nil
	}
	return l.failLocked(a, now), nil
}

// judgeLocked returns the longest remaining window of the counters that
// throttle a, given each counter's window.
func (l *LoginThrottle) judgeLocked(a port.LoginAttempt, cs [3]counter, ws [3]window, now time.Time) time.Duration {
	var retry time.Duration
	for i, c := range cs {
		d := l.over(ws[i], c.limit, now)
		if d > 0 && c.guard && l.knownLocked(a, now) {
			continue
		}
		retry = max(retry, d)
	}
	return retry
}

// checkLocked is Check; the caller holds l.mu.
func (l *LoginThrottle) checkLocked(a port.LoginAttempt, now time.Time) time.Duration {
	cs := l.counters3(a)
	var ws [3]window
	for i, c := range cs {
		ws[i], _ = l.liveLocked(c.key, now)
	}
	return l.judgeLocked(a, cs, ws, now)
}

// failLocked is Fail; the caller holds l.mu.
func (l *LoginThrottle) failLocked(a port.LoginAttempt, now time.Time) time.Duration {
	l.sweepLocked(now)
	cs := l.counters3(a)
	var ws [3]window
	for i, c := range cs {
		w, ok := l.liveLocked(c.key, now)
		if !ok {
			w = window{start: now}
		}
		w.n++
		l.counters[c.key] = w
		ws[i] = w
	}
	return l.judgeLocked(a, cs, ws, now)
}

// uncountLocked takes one unit back from the counter at key, never below
// zero. The caller holds l.mu.
func (l *LoginThrottle) uncountLocked(key string) {
	if w, ok := l.counters[key]; ok && w.n > 0 {
		w.n--
		l.counters[key] = w
	}
}

// Forgive clears the username+client counter, un-counts one failure from
// the client and the username, and remembers the client as known.
func (l *LoginThrottle) Forgive(ctx context.Context, a port.LoginAttempt) error {
	now, err := l.begin(ctx)
	if err != nil {
		return err
	}
	defer l.mu.Unlock()
	cs := l.counters3(a)
	delete(l.counters, cs[0].key)
	l.uncountLocked(cs[1].key)
	l.uncountLocked(cs[2].key)
	l.rememberLocked(a, now, now)
	return nil
}

// Remember makes each client known to its account as of its At.
func (l *LoginThrottle) Remember(ctx context.Context, clients ...port.KnownClient) error {
	now, err := l.begin(ctx)
	if err != nil {
		return err
	}
	defer l.mu.Unlock()
	for _, c := range clients {
		at := c.At
		if at.After(now) {
			at = now
		}
		l.rememberLocked(c.LoginAttempt, at, now)
	}
	return nil
}

// rememberLocked makes a's identities known to its account as of at (≤ now)
// unless they are known as of a later time already, or at is KnownClientTTL
// before now or earlier, and keeps the MaxKnownClients most recent. The
// caller holds l.mu.
func (l *LoginThrottle) rememberLocked(a port.LoginAttempt, at, now time.Time) {
	if !now.Before(at.Add(l.cfg.KnownClientTTL)) {
		return
	}
	m := l.known[a.Username]
	if m == nil {
		m = make(map[string]time.Time)
		l.known[a.Username] = m
	}
	for _, id := range identities(a) {
		if t, ok := m[id]; !ok || t.Before(at) {
			m[id] = at
		}
	}
	for len(m) > port.MaxKnownClients { // drop the oldest
		var oldest string
		for id, t := range m {
			if oldest == "" || t.Before(m[oldest]) {
				oldest = id
			}
		}
		delete(m, oldest)
	}
}

// Release un-counts one reserved attempt from all three counters.
func (l *LoginThrottle) Release(ctx context.Context, a port.LoginAttempt) error {
	if _, err := l.begin(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	for _, c := range l.counters3(a) {
		l.uncountLocked(c.key)
	}
	return nil
}

// sweepLocked drops closed windows and forgotten clients now and then. The
// caller holds l.mu.
func (l *LoginThrottle) sweepLocked(now time.Time) {
	l.writes++
	if l.writes%sweepEvery != 0 {
		return
	}
	for k := range l.counters {
		if _, ok := l.liveLocked(k, now); !ok {
			delete(l.counters, k)
		}
	}
	for name, m := range l.known {
		for id, t := range m {
			if !now.Before(t.Add(l.cfg.KnownClientTTL)) {
				delete(m, id)
			}
		}
		if len(m) == 0 {
			delete(l.known, name)
		}
	}
}
