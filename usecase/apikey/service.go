// Package apikey holds the API-key use cases (contract §5): create, list,
// revoke and rotate keys, the X-API-Key authenticator of the authn chain,
// the recorder that keeps lastUsedAt current without a write per request,
// and the positive cache of grants that spares the request path its store
// read (Cache), with the relay of the invalidation outbox (Relay).
//
// Keys are stored only as SHA-256 digests (see domain/apikey). Without a
// cache, the authenticator reads the key and its owner from the store on
// every request, in one indexed query. With one, every change that stops
// or alters a grant (revoke, rotate; the owner's role, status or deletion
// in usecase/users) is committed first and then published through a
// port.KeyInvalidator, which answers once every instance has forgotten the
// grant or stopped trusting its cache: so a key revoked on one instance is
// refused by every instance once the call has answered (contract §15).
package apikey

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// Generator makes a fresh key; production uses adapter/crypto.NewAPIKey.
// Injected so tests can issue known keys.
type Generator func() (ak.Token, error)

// Deps are the ports the key-management use cases need.
type Deps struct {
	Keys     port.APIKeyStore
	Users    port.UserStore
	Generate Generator
	Audit    port.AuditLog
	Clock    port.Clock
	// Invalidator, when set, tells every instance's key cache that a key
	// changed, after the store committed the change and before the call
	// answers; an Invalidate failure makes the call answer 503 although the
	// change is committed. nil means no instance caches keys.
	Invalidator port.KeyInvalidator
}

// Settings are the limits of security.api_keys.
type Settings struct {
	// MaxPerUser caps the active (unrevoked, unexpired) keys of one owner;
	// 0 means no limit.
	MaxPerUser int
}

// Service runs the key-management use cases; each lives in its own file.
type Service struct {
	Deps
	settings Settings
}

// New returns the key-management use cases over deps.
func New(deps Deps, settings Settings) *Service {
	return &Service{Deps: deps, settings: settings}
}

// Issued is a key as created or rotated: the stored record plus the key
// itself, which leaves the service only in this one answer. Token formats
// itself redacted, so logging an Issued by mistake leaks nothing.
type Issued struct {
	Key   ak.Key
	Token ak.Token
}

// MaxGraceSeconds bounds a rotation's overlap: one day.
const MaxGraceSeconds = 86400

var (
	// errKeyMintsKey refuses key management that would let a key outgrow
	// itself: a leaked key must not be able to mint fresh keys.
	errKeyMintsKey = domain.ErrForbidden.WithMessage("API keys cannot create or rotate API keys; use a session token")
	// errNoOwner refuses to create keys for a caller with no user account
	// (the basic-auth credential when no user bears its username).
	errNoOwner = domain.ErrForbidden.WithMessage("API keys need an owning user account; the basic-auth credential is not linked to one")
	// errRevoked refuses rotating a key that is already revoked or rotated.
	errRevoked = domain.ErrConflict.WithMessage("API key is revoked")
	// errExpired refuses rotating an expired key: its successor would be
	// born expired.
	errExpired = domain.ErrConflict.WithMessage("API key has expired")
)

// authorize returns the key with id if p may manage it: its owner, or a
// caller with users:manage in its effective permissions. Unknown is 404, someone else's 403 (contract §5).
func (s *Service) authorize(ctx context.Context, p principal.Principal, client principal.Client, action audit.Action, id string) (*ak.Key, error) {
	k, err := s.Keys.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.OwnerID != p.UserID && !p.ManagesOthers() {
		s.record(ctx, s.event(action, audit.OutcomeDenied, p, client, id))
		return nil, domain.ErrForbidden.WithMessage("This API key belongs to someone else")
	}
	return k, nil
}

// mint generates a key for template (owner, name, scopes and expiry set)
// and completes the record that will store its digest.
func (s *Service) mint(template ak.Key, now time.Time) (Issued, error) {
	tok, err := s.Generate()
	if err != nil {
		return Issued{}, domain.Internal(err)
	}
	if tok.IsZero() {
		return Issued{}, domain.Internal(errors.New("apikey: generator returned no key"))
	}
	k := template
	k.ID = domain.NewID()
	k.Prefix = tok.DisplayPrefix()
	k.Digest = tok.Digest()
	k.CreatedAt = now
	k.LastUsedAt, k.RevokedAt, k.GraceUntil = nil, nil, nil
	return Issued{Key: k, Token: tok}, nil
}

// event builds an audit event for p acting on key id. It never carries the
// key or its digest.
func (s *Service) event(action audit.Action, outcome audit.Outcome, p principal.Principal, client principal.Client, id string) audit.Event {
	e := audit.Event{
		ID:         domain.NewID(),
		Time:       s.Clock.Now(),
		ActorID:    p.UserID,
		ActorName:  p.Username,
		Action:     action,
		TargetType: "api_key",
		TargetID:   id,
		IP:         client.IP,
		UserAgent:  client.UserAgent,
		Outcome:    outcome,
		Metadata:   map[string]string{"authMethod": string(p.Method)},
	}
	if client.RequestID != "" {
		e.Metadata["requestId"] = client.RequestID
	}
	return e
}

// record queues e in the audit log, if there is one; it never blocks.
func (s *Service) record(ctx context.Context, e audit.Event) {
	if s.Audit != nil {
		s.Audit.Record(ctx, e)
	}
}
