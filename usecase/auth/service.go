// Package auth holds the session use cases: login, refresh, logout, who am
// I, listing and ending sessions, changing one's password, and the Bearer
// authenticator that turns an access token into a Principal.
//
// The split of state is deliberate: sessions are rows in Postgres for
// listing, while everything a request needs to be accepted (is this token,
// session or user revoked?) lives in the TokenDenylist, so an authenticated
// request costs one Redis round trip and no database query.
package auth

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// Settings are the token lifetimes the use cases enforce (security.jwt).
type Settings struct {
	// TokenTTL is an access token's lifetime.
	TokenTTL time.Duration
	// Leeway is the clock skew the verifier tolerates; denials outlive a
	// token's exp by it, or a token would come back to life at exp.
	Leeway time.Duration
	// RefreshGrace is how long a repeated refresh of one token returns the
	// same successor.
	RefreshGrace time.Duration
	// MaxSession bounds how long after login a session can be refreshed.
	MaxSession time.Duration
}

// Deps are the ports the session use cases need.
type Deps struct {
	Users    port.UserStore
	Sessions port.SessionStore
	Ender    port.SessionEnder
	Hasher   port.PasswordHasher
	Issuer   port.TokenIssuer
	Verifier port.TokenVerifier
	Denylist port.TokenDenylist
	Throttle port.LoginThrottle
	Audit    port.AuditLog
	Clock    port.Clock
}

// Service runs the session use cases; each lives in its own file.
type Service struct {
	Deps
	settings Settings
	revoker  *Revoker
}

// New returns the session use cases over deps.
func New(deps Deps, settings Settings) *Service {
	return &Service{
		Deps:     deps,
		settings: settings,
		revoker:  NewRevoker(deps.Sessions, deps.Ender, deps.Denylist, deps.Clock, settings),
	}
}

// Revoker returns the helper that ends sessions in the store and the
// denylist together, for the user-administration use cases.
func (s *Service) Revoker() *Revoker { return s.revoker }

// errNotJWT refuses session operations (refresh, logout, password change)
// to callers that did not authenticate with a session token: an API key or
// the basic credential has no session to act on.
var errNotJWT = domain.ErrForbidden.WithMessage("This operation requires a session token (log in first)")

// errSessionExpired is the 401 for a session past security.jwt.max_session.
var errSessionExpired = domain.ErrUnauthenticated.WithMessage("Session expired; log in again")

// requireJWT returns errNotJWT unless p authenticated with a session token.
func requireJWT(p principal.Principal) error {
	if !p.HasSession() {
		return errNotJWT
	}
	return nil
}

// event builds an audit event stamped with the clock and the client. It
// never carries a secret: only IDs, names and outcomes.
func (s *Service) event(action audit.Action, outcome audit.Outcome, client principal.Client) audit.Event {
	e := audit.Event{
		ID:        domain.NewID(),
		Time:      s.Clock.Now(),
		Action:    action,
		IP:        client.IP,
		UserAgent: client.UserAgent,
		Outcome:   outcome,
	}
	if client.RequestID != "" {
		e.Metadata = map[string]string{"requestId": client.RequestID}
	}
	return e
}

// actorEvent is event with the caller as actor.
func (s *Service) actorEvent(action audit.Action, outcome audit.Outcome, p principal.Principal, client principal.Client) audit.Event {
	e := s.event(action, outcome, client)
	e.ActorID, e.ActorName = p.UserID, p.Username
	return e
}

// withMeta adds metadata to e (never secrets).
func withMeta(e audit.Event, kv ...string) audit.Event {
	if e.Metadata == nil {
		e.Metadata = make(map[string]string, len(kv)/2)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Metadata[kv[i]] = kv[i+1]
	}
	return e
}

// unavailableOr maps an error that is not a domain error (an adapter that
// forgot to translate) to 503 for dependency: an infrastructure failure
// must never read as "revoked" (401) to a client.
func unavailableOr(dependency string, err error) error {
	var de *domain.Error
	if err == nil || errors.As(err, &de) {
		return err
	}
	return domain.Unavailable(dependency, err)
}

// record sends e to the audit log. It must not block: the port queues.
func (s *Service) record(ctx context.Context, e audit.Event) {
	s.Audit.Record(ctx, e)
}
