package memory

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// LoginThrottle is an in-process port.LoginThrottle with fixed windows that
// start at the first failure and end by the injected clock.
type LoginThrottle struct {
	cfg   port.ThrottleLimits
	clock port.Clock

	mu       sync.Mutex
	counters map[string]window
	writes   int
}

type window struct {
	start time.Time
	n     int
}

var _ port.LoginThrottle = (*LoginThrottle)(nil)

// NewLoginThrottle returns a throttle with cfg's limits.
func NewLoginThrottle(cfg port.ThrottleLimits, clock port.Clock) *LoginThrottle {
	return &LoginThrottle{cfg: cfg.WithDefaults(), clock: clock, counters: make(map[string]window)}
}

func userKey(username, ip string) string {
	return "u\x00" + user.NormalizeUsername(username) + "\x00" + ip
}
func ipKey(ip string) string { return "ip\x00" + ip }

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

// Check reports how long the caller must wait, 0 if not throttled.
func (l *LoginThrottle) Check(ctx context.Context, username, ip string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, domain.Unavailable("throttle", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checkLocked(username, ip, now), nil
}

// Fail counts a failed login for username+IP and for IP.
func (l *LoginThrottle) Fail(ctx context.Context, username, ip string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, domain.Unavailable("throttle", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failLocked(username, ip, now), nil
}

// Reserve is Check and, unless throttled, Fail under one lock.
func (l *LoginThrottle) Reserve(ctx context.Context, username, ip string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, domain.Unavailable("throttle", err)
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if retry := l.checkLocked(username, ip, now); retry > 0 {
		return retry, nil
	}
	return l.failLocked(username, ip, now), nil
}

// checkLocked is Check; the caller holds l.mu.
func (l *LoginThrottle) checkLocked(username, ip string, now time.Time) time.Duration {
	u, _ := l.liveLocked(userKey(username, ip), now)
	i, _ := l.liveLocked(ipKey(ip), now)
	return max(l.over(u, l.cfg.MaxPerUser, now), l.over(i, l.cfg.MaxPerIP, now))
}

// failLocked is Fail; the caller holds l.mu.
func (l *LoginThrottle) failLocked(username, ip string, now time.Time) time.Duration {
	l.sweepLocked(now)
	var retry time.Duration
	for _, c := range []struct {
		key   string
		limit int
	}{{userKey(username, ip), l.cfg.MaxPerUser}, {ipKey(ip), l.cfg.MaxPerIP}} {
		w, ok := l.liveLocked(c.key, now)
		if !ok {
			w = window{start: now}
		}
		w.n++
		l.counters[c.key] = w
		retry = max(retry, l.over(w, c.limit, now))
	}
	return retry
}

// Forgive clears the username+IP counter and un-counts one IP failure.
func (l *LoginThrottle) Forgive(ctx context.Context, username, ip string) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("throttle", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.counters, userKey(username, ip))
	if w, ok := l.counters[ipKey(ip)]; ok && w.n > 0 {
		w.n--
		l.counters[ipKey(ip)] = w
	}
	return nil
}

// sweepLocked drops closed windows now and then. The caller holds l.mu.
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
}
