package apikey

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

// UsageRecorder notes that a key was used; it must not block or do I/O on
// the request path (LastUsed batches the writes).
type UsageRecorder interface {
	Seen(keyID string, at time.Time)
}

// Authenticator is the X-API-Key authenticator of the authn chain. Per
// request it does this and nothing more: parse the key (shape and checksum,
// no I/O: a malformed key is refused before any lookup), one lookup by
// digest that also returns the owner's current role and status (the
// store's indexed read, or a Cache in front of it that answers from
// memory), and an in-memory note of the use. It never writes on the request
// path. Expiry and rotation grace are judged here, at request time, so a
// cached grant stops at its time like a stored one.
type Authenticator struct {
	store port.APIKeyAuthStore
	clock port.Clock
	usage UsageRecorder
}

var _ authn.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns the API-key authenticator; usage may be nil.
func NewAuthenticator(store port.APIKeyAuthStore, clock port.Clock, usage UsageRecorder) *Authenticator {
	return &Authenticator{store: store, clock: clock, usage: usage}
}

// Authenticate verifies an API-key credential. A malformed, unknown,
// expired or revoked key, or one whose owner is disabled, is
// domain.ErrUnauthenticated; a store that cannot be reached is
// domain.ErrUnavailable (503, never 401). The principal's permissions are
// the key's scopes narrowed by the owner's current role.
func (a *Authenticator) Authenticate(ctx context.Context, cred authn.Credential, _ principal.Client) (principal.Principal, error) {
	if cred.Kind != authn.KindAPIKey {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	tok, err := ak.Parse(cred.Secret)
	if err != nil {
		return principal.Principal{}, err
	}
	g, err := a.store.GetByDigest(ctx, tok.Digest())
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return principal.Principal{}, domain.ErrUnauthenticated
	case err != nil:
		return principal.Principal{}, asUnavailable(err)
	}
	now := a.clock.Now()
	if !g.Key.Usable(now) || g.OwnerDisabled || !g.OwnerRole.Valid() {
		return principal.Principal{}, domain.ErrUnauthenticated
	}
	if a.usage != nil {
		a.usage.Seen(g.Key.ID, now)
	}
	return principal.Principal{
		UserID:      g.Key.OwnerID,
		Username:    g.OwnerUsername,
		Role:        g.OwnerRole,
		Method:      principal.MethodAPIKey,
		Permissions: g.Key.Effective(g.OwnerRole),
		KeyID:       g.Key.ID,
	}, nil
}

// asUnavailable maps an error that is not a domain error (an adapter that
// forgot to translate) to 503: an infrastructure failure must never read
// as "revoked" (401) to a client.
func asUnavailable(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	return domain.Unavailable("api key store", err)
}
