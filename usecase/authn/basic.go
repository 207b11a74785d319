package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// BasicConfig is the one configured basic-auth credential
// (security.basic_auth; infra/config refuses to start with a password
// shorter than 12 characters).
type BasicConfig struct {
	Username string
	Password string
}

// BasicDeps are the ports the basic authenticator uses; all but Clock may
// be nil (no owner mapping, no throttle, no audit).
type BasicDeps struct {
	// Users links the credential to the user account of the same username,
	// which then owns what the caller creates (API keys, workflows).
	Users port.UserStore
	// Throttle counts failed attempts toward the login throttle, per
	// username+IP and per IP, and refuses throttled callers.
	Throttle port.LoginThrottle
	Audit    port.AuditLog
	Clock    port.Clock
	// OnError hears about throttle failures, which are otherwise ignored
	// (fail open: basic auth keeps working while Redis is down, as API
	// keys do, contract §4).
	OnError func(error)
}

// Basic authenticates the configured basic-auth credential as an admin
// principal (contract §6). The presented username and password are hashed
// with SHA-256 and compared with the configured ones' digests in constant
// time: equal-length digests leak neither the secrets' lengths nor where
// they differ, and both comparisons always run.
type Basic struct {
	username   string
	userDigest [sha256.Size]byte
	passDigest [sha256.Size]byte
	deps       BasicDeps

	// remembered is when each client network was last made known to the
	// throttle by a success, so that a success costs a throttle write at
	// most once per rememberEvery and client, not per request.
	mu         sync.Mutex
	remembered map[string]time.Time
}

// rememberEvery is how often a client that keeps succeeding is made known
// to the login throttle again; far below any sensible known_client_ttl.
// maxRemembered bounds the map; past it the map starts afresh (the cost is
// one more throttle write per client).
const (
	rememberEvery = time.Hour
	maxRemembered = 4096
)

var _ Authenticator = (*Basic)(nil)

// NewBasic returns the authenticator for cfg. The password is kept only as
// its digest.
func NewBasic(cfg BasicConfig, deps BasicDeps) *Basic {
	if deps.OnError == nil {
		deps.OnError = func(error) {}
	}
	return &Basic{
		username:   cfg.Username,
		userDigest: sha256.Sum256([]byte(cfg.Username)),
		passDigest: sha256.Sum256([]byte(cfg.Password)),
		deps:       deps,
		remembered: make(map[string]time.Time),
	}
}

// maxAuditedUsername bounds the attempted username kept in the audit log.
const maxAuditedUsername = 64

// Authenticate checks a basic credential. A throttled caller gets 429
// before any comparison (so a right guess while throttled teaches nothing);
// a wrong pair counts as a failed login and is audited, then is 401 (or 429
// once that failure crosses the throttle's limit).
func (b *Basic) Authenticate(ctx context.Context, cred Credential, client principal.Client) (principal.Principal, error) {
	if cred.Kind != KindBasic {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	if b.deps.Throttle != nil {
		retry, err := b.deps.Throttle.Check(ctx, port.NewLoginAttempt(cred.Username, client))
		switch {
		case err != nil:
			b.deps.OnError(err)
		case retry > 0:
			return principal.Principal{}, domain.RateLimited(retry)
		}
	}
	if !b.matches(cred.Username, cred.Password) {
		return principal.Principal{}, b.fail(ctx, cred.Username, client)
	}
	b.remember(ctx, client)
	userID, err := b.linkedUser(ctx)
	if err != nil {
		return principal.Principal{}, err
	}
	return principal.Principal{
		UserID:      userID,
		Username:    b.username,
		Role:        user.RoleAdmin,
		Method:      principal.MethodBasic,
		Permissions: user.RoleAdmin.Permissions(),
	}, nil
}

// remember makes a succeeding client known to the login throttle (Forgive),
// so that failures on the configured username from elsewhere, which
// protect it past security.login_throttle.max_failures_per_username, never
// lock out the clients that use it. Once per rememberEvery and client.
func (b *Basic) remember(ctx context.Context, client principal.Client) {
	if b.deps.Throttle == nil {
		return
	}
	a := port.NewLoginAttempt(b.username, client)
	now := b.deps.Clock.Now()
	b.mu.Lock()
	last, ok := b.remembered[a.Client]
	due := !ok || now.Sub(last) >= rememberEvery
	if due {
		if len(b.remembered) >= maxRemembered {
			clear(b.remembered)
		}
		b.remembered[a.Client] = now
	}
	b.mu.Unlock()
	if !due {
		return
	}
	if err := b.deps.Throttle.Forgive(ctx, a); err != nil {
		b.deps.OnError(err)
		b.mu.Lock()
		delete(b.remembered, a.Client) // try again next time
		b.mu.Unlock()
	}
}

// matches compares both digests in constant time, always both.
func (b *Basic) matches(username, password string) bool {
	u := sha256.Sum256([]byte(username))
	p := sha256.Sum256([]byte(password))
	okUser := subtle.ConstantTimeCompare(u[:], b.userDigest[:])
	okPass := subtle.ConstantTimeCompare(p[:], b.passDigest[:])
	return okUser&okPass == 1
}

// fail records a failed attempt and returns the error to answer with.
func (b *Basic) fail(ctx context.Context, username string, client principal.Client) error {
	var retry time.Duration
	if b.deps.Throttle != nil {
		var err error
		if retry, err = b.deps.Throttle.Fail(ctx, port.NewLoginAttempt(username, client)); err != nil {
			b.deps.OnError(err)
		}
	}
	if b.deps.Audit != nil {
		e := audit.Event{
			ID:        domain.NewID(),
			Time:      b.deps.Clock.Now(),
			ActorName: truncateRunes(username, maxAuditedUsername),
			Action:    audit.ActionBasicFailure,
			IP:        client.IP,
			UserAgent: client.UserAgent,
			Outcome:   audit.OutcomeFailure,
		}
		if client.RequestID != "" {
			e.Metadata = map[string]string{"requestId": client.RequestID}
		}
		b.deps.Audit.Record(ctx, e)
	}
	if retry > 0 {
		return domain.RateLimited(retry)
	}
	return domain.ErrUnauthenticated
}

// linkedUser returns the ID of the enabled user whose username is the
// credential's, or "" when there is none: then the caller acts as admin but
// owns nothing (creating API keys is refused with a clear message).
func (b *Basic) linkedUser(ctx context.Context) (string, error) {
	if b.deps.Users == nil {
		return "", nil
	}
	u, err := b.deps.Users.GetByUsername(ctx, b.username)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return "", nil
	case err != nil:
		var de *domain.Error
		if errors.As(err, &de) {
			return "", err
		}
		return "", domain.Unavailable("user store", err)
	case u.Disabled:
		return "", nil
	}
	return u.ID, nil
}

// truncateRunes cuts s to at most n runes without splitting one.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
