package port

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
)

// LoginAttempt names who is trying to log in, for the LoginThrottle. Build
// it with NewLoginAttempt, so every caller (login, basic auth, password
// change) keys the counters the same way.
type LoginAttempt struct {
	// Username is the attempted username after user.NormalizeUsername.
	Username string
	// Client is the network the attempt came from: principal.ClientNetwork
	// of its IP (an IPv4 address or an IPv6 /64), the same key the rate
	// limiter gives an unauthenticated caller.
	Client string
	// Device is a second identity the client may be known by (the console's
	// device cookie), or "" for none. A successful login remembers it next
	// to Client, and either one makes the client known to the account.
	Device string
}

// NewLoginAttempt returns the attempt of username from client.
func NewLoginAttempt(username string, client principal.Client) LoginAttempt {
	return LoginAttempt{
		Username: user.NormalizeUsername(username),
		Client:   principal.ClientNetwork(client.IP),
		Device:   client.Device,
	}
}

// LoginThrottle limits failed logins (contract §4), shared by every
// instance, with three counters per window: per username+client, per client
// and per username alone. Limits are counts of failures in a fixed window
// that starts at a counter's first failure: a counter that reaches its limit
// lifts by itself when its window ends, never permanently.
//
// A limit of N tolerates N failures in a window: the (N+1)th failure crosses
// it, and every Check after that is throttled until the window ends. Past
// the username+client or the client limit the caller is throttled. Past the
// per-username limit the account is protected, not locked: a client that
// logged in to it successfully within KnownClientTTL (remembered by Forgive)
// may still try, everyone else is throttled until the username's window
// ends. Infrastructure failures are domain.ErrUnavailable.
type LoginThrottle interface {
	// Check returns how long until the attempt's caller may try again: > 0
	// when it is throttled as above, 0 otherwise. It counts nothing.
	Check(ctx context.Context, a LoginAttempt) (retryAfter time.Duration, err error)
	// Reserve is Check and then Fail as one atomic step, for a caller that
	// counts an attempt before judging it (and Forgives it on success): when
	// the caller is throttled it counts nothing and returns what Check
	// would; otherwise it counts the attempt in all three counters and
	// returns what Fail would (> 0 only when this attempt crosses a limit).
	// One step, so a login costs one round trip to the shared store here.
	Reserve(ctx context.Context, a LoginAttempt) (retryAfter time.Duration, err error)
	// Fail records one failed login in all three counters atomically and
	// returns > 0 (the longest remaining window that applies) when the
	// caller is now throttled — for the failure that crosses a limit and
	// every one after.
	Fail(ctx context.Context, a LoginAttempt) (retryAfter time.Duration, err error)
	// Forgive is for a caller that counted the attempt (Reserve or Fail)
	// before judging it, so that N concurrent guesses cannot all be judged:
	// the attempt was a success after all, so Forgive clears the
	// username+client counter, takes that one unit back from the client and
	// the username counters (never below zero), and remembers the client
	// (and its Device) as known to the account for KnownClientTTL.
	// Successful logins therefore never add up to a throttle, while failures
	// from the client still do.
	Forgive(ctx context.Context, a LoginAttempt) error
	// Release gives back the unit a Reserve counted when the attempt was
	// never judged (the server failed after reserving): one unit from each
	// of the three counters, never below zero, and nothing remembered.
	Release(ctx context.Context, a LoginAttempt) error
	// Remember makes each client (and its Device) known to its account as
	// of its At, as Forgive does at the time of a success, and counts
	// nothing: for rebuilding the known clients from the durable sessions
	// (KnownClientSource). It is idempotent: a client remembered twice keeps
	// its later time. The rules of Forgive bound it: a client whose At is
	// KnownClientTTL old or older is not remembered, an At in the future
	// counts as now, and an account keeps its MaxKnownClients most recent
	// clients.
	Remember(ctx context.Context, clients ...KnownClient) error
}

// KnownClient is a client that logged in to an account successfully at At.
type KnownClient struct {
	LoginAttempt
	At time.Time
}

// ThrottleLimits are a LoginThrottle's limits, shared by every
// implementation. Zero fields take the defaults of DefaultThrottleLimits.
type ThrottleLimits struct {
	// MaxPerUser is the number of failures tolerated per username+client in
	// a window (security.login_throttle.max_failures_per_user).
	MaxPerUser int
	// MaxPerIP is the number of failures tolerated per client in a window
	// (security.login_throttle.max_failures_per_ip).
	MaxPerIP int
	// MaxPerUsername is the number of failures tolerated per username, from
	// any number of clients, before the account is protected
	// (security.login_throttle.max_failures_per_username).
	MaxPerUsername int
	// Window is how long a counter lives after its first failure.
	Window time.Duration
	// KnownClientTTL is how long a successful login keeps its client known
	// to the account (security.login_throttle.known_client_ttl).
	KnownClientTTL time.Duration
}

// MaxKnownClients bounds the clients remembered per account: the most
// recent ones are kept, so one account's memory never grows without bound.
const MaxKnownClients = 32

// DefaultThrottleLimits returns the contract's defaults: 5 failures per
// username+client, 100 per client and 20 per username in a 15-minute
// window; clients stay known for 30 days.
func DefaultThrottleLimits() ThrottleLimits {
	return ThrottleLimits{MaxPerUser: 5, MaxPerIP: 100, MaxPerUsername: 20, Window: 15 * time.Minute, KnownClientTTL: 30 * 24 * time.Hour}
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
	if l.MaxPerUsername <= 0 {
		l.MaxPerUsername = d.MaxPerUsername
	}
	if l.Window <= 0 {
		l.Window = d.Window
	}
	if l.KnownClientTTL <= 0 {
		l.KnownClientTTL = d.KnownClientTTL
	}
	return l
}
