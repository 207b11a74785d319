package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
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
}

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
		retry, err := b.deps.Throttle.Check(ctx, cred.Username, client.IP)
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
		if retry, err = b.deps.Throttle.Fail(ctx, username, client.IP); err != nil {
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
