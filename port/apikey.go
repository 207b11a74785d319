package port

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
)

// ErrKeyLimit is the cause inside the domain.ErrConflict that
// APIKeyStore.Create returns when the owner is at the limit of active keys,
// so callers can tell it from a duplicate (errors.Is reaches it).
var ErrKeyLimit = errors.New("owner holds the maximum number of active API keys")

// APIKeyStore persists API keys for their management endpoints (contract
// §5). It never sees a key itself, only its digest. Errors are domain
// errors: ErrNotFound, ErrConflict, ErrUnavailable when the store cannot be
// reached. Times are kept at microsecond precision in UTC.
type APIKeyStore interface {
	// Create stores k unless its owner already holds maxActive keys that
	// work at k.CreatedAt (apikey.Key.Usable: not expired, and not revoked
	// or inside a rotation's grace), which is domain.ErrConflict wrapping
	// ErrKeyLimit;
	// the count and the insert are atomic per owner, so concurrent creates
	// cannot overshoot. maxActive <= 0 means no limit. An unknown owner is
	// domain.ErrNotFound; a duplicate ID or digest is domain.ErrConflict.
	// events are audited with the write (see AuditStore).
	Create(ctx context.Context, k apikey.Key, maxActive int, events ...audit.Event) error
	// Get returns the key with id, revoked or not, or domain.ErrNotFound.
	Get(ctx context.Context, id string) (*apikey.Key, error)
	// ListByOwner returns up to limit of ownerID's keys that are not revoked
	// or still inside a rotation grace at liveAt (expired keys are listed:
	// their owner should see them), newest first, after cursor ("" for the
	// first page), and the next page's cursor ("" when there is none). limit
	// must be 1 to MaxListLimit; a bad limit or malformed cursor is an
	// INVALID_REQUEST naming "limit" or "cursor".
	ListByOwner(ctx context.Context, ownerID string, liveAt time.Time, cursor string, limit int) ([]apikey.Key, string, error)
	// Update loads the key with id, holds it locked, lets fn change it and
	// stores the result in one transaction; it returns the stored key. fn
	// cannot change ID, OwnerID, Digest, Prefix or CreatedAt. An error from fn
	// aborts the update and is returned unchanged; an unknown id is
	// domain.ErrNotFound. events are audited with the write, read after fn
	// returns (see AuditStore).
	Update(ctx context.Context, id string, fn func(*apikey.Key) error, events ...audit.Event) (*apikey.Key, error)
	// Rotate is Update of the key with id plus the insertion of successor, in
	// one transaction: the old key is retired and its successor exists, or
	// neither happened. A successor that replaces the old key at once is not
	// counted against any limit; one that joins it (fn left the old key
	// Usable at successor.CreatedAt: a grace) counts like Create's, against
	// maxActive, atomically per owner (domain.ErrConflict wrapping
	// ErrKeyLimit, nothing changed), so the keys that work never exceed it.
	// Errors are those of Update and Create. events are audited with the
	// write, read after fn returns (see AuditStore).
	Rotate(ctx context.Context, id string, successor apikey.Key, maxActive int, fn func(old *apikey.Key) error, events ...audit.Event) (*apikey.Key, error)
}

// KeyGrant is what authenticating one request with an API key needs: the
// key and its owner's current standing, read together in one query.
type KeyGrant struct {
	Key           apikey.Key
	OwnerUsername string
	OwnerRole     user.Role
	OwnerDisabled bool
}

// APIKeyAuthStore serves the API-key request path: one indexed read per
// request and batched, background writes of lastUsedAt.
type APIKeyAuthStore interface {
	// GetByDigest returns the key whose digest is digest with its owner, in
	// exactly one indexed query and with no write, or domain.ErrNotFound.
	// It does not judge the key (expiry, revocation): the caller does.
	GetByDigest(ctx context.Context, digest string) (*KeyGrant, error)
	// TouchLastUsed sets lastUsedAt of each key ID to its time unless the
	// stored value is already later (instances flush independently), in one
	// statement. Unknown IDs (deleted keys) are ignored.
	TouchLastUsed(ctx context.Context, seen map[string]time.Time) error
}
