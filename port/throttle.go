package port

import (
	"context"
	"time"
)

// LoginThrottle limits failed logins per username+client IP and per client IP
// (contract §4), shared by every instance. Limits are counts of failures in a
// fixed window that starts at the first failure: a counter that reaches its
// limit lifts by itself when its window ends, never permanently.
//
// A limit of N tolerates N failures in a window: the (N+1)th failure crosses
// it, and every Check after that is throttled until the window ends.
// Usernames are compared after user.NormalizeUsername. Infrastructure
// failures are domain.ErrUnavailable.
type LoginThrottle interface {
	// Check returns how long until the caller may try again: > 0 when the
	// username+IP or the IP counter is over its limit, 0 otherwise. It does
	// not count anything.
	Check(ctx context.Context, username, ip string) (retryAfter time.Duration, err error)
	// Reserve is Check and then Fail as one atomic step, for a caller that
	// counts an attempt before judging it (and Forgives it on success): when
	// either counter is already over its limit it counts nothing and returns
	// what Check would; otherwise it counts the attempt in both counters and
	// returns what Fail would (> 0 only when this attempt crosses a limit).
	// One step, so a login costs one round trip to the shared store here.
	Reserve(ctx context.Context, username, ip string) (retryAfter time.Duration, err error)
	// Fail records one failed login for username+IP and for IP atomically and
	// returns > 0 (the longer remaining window) when either counter is now
	// over its limit — for the failure that crosses it and every one after.
	Fail(ctx context.Context, username, ip string) (retryAfter time.Duration, err error)
	// Forgive is for a caller that counted the attempt (Reserve or Fail)
	// before judging it, so that N concurrent guesses cannot all be judged:
	// the attempt was a success after all, so Forgive clears the
	// username+IP counter and takes that one unit back from the IP counter
	// (never below zero). Successful logins therefore never add up to a
	// per-IP throttle, while failures from the IP still do.
	Forgive(ctx context.Context, username, ip string) error
}

// ThrottleLimits are a LoginThrottle's limits, shared by every
// implementation. Zero fields take the defaults of DefaultThrottleLimits.
type ThrottleLimits struct {
	// MaxPerUser is the number of failures tolerated per username+IP in a window.
	MaxPerUser int
	// MaxPerIP is the number of failures tolerated per IP in a window.
	MaxPerIP int
	// Window is how long a counter lives after its first failure.
	Window time.Duration
}

// DefaultThrottleLimits returns the contract's defaults: 5 failures per
// username+IP and 100 per IP in a 15-minute window.
func DefaultThrottleLimits() ThrottleLimits {
	return ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, Window: 15 * time.Minute}
}

// WithDefaults fills zero fields from DefaultThrottleLimits.
func (l ThrottleLimits) WithDefaults() ThrottleLimits {
	d := DefaultThrottleLimits()
	if l.MaxPerUser <= 0 {
		l.MaxPerUser = d.MaxPerUser
	}
	if l.MaxPerIP <= 0 {
		l.MaxPerIP = d.MaxPerIP
	}
	if l.Window <= 0 {
		l.Window = d.Window
	}
	return l
}
