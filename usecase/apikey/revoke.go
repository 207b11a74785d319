package apikey

import (
	"context"

	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// Revoke stops the key with id at once, on every instance: the revocation
// is committed, then the key's cached grants are invalidated (Invalidator)
// before Revoke returns. Only its owner or an admin may; someone else's key
// is 403, an unknown one 404. Revoking a key still inside a rotation's grace
// ends the grace; revoking a revoked key changes nothing and succeeds (and
// invalidates again, so a retry after a 503 completes what failed). When
// the invalidation fails the answer is 503 although the key is revoked in
// the store.
func (s *Service) Revoke(ctx context.Context, p principal.Principal, client principal.Client, id string) error {
	k, err := s.authorize(ctx, p, client, audit.ActionAPIKeyRevoke, id)
	if err != nil {
		return err
	}
	now := s.now()
	e := s.event(audit.ActionAPIKeyRevoke, audit.OutcomeSuccess, p, client, id)
	e.Metadata["ownerId"] = k.OwnerID // the owner never changes
	_, err = s.Keys.Update(ctx, id, func(k *ak.Key) error {
		if k.RevokedAt == nil {
			k.RevokedAt = &now
		}
		k.GraceUntil = nil
		return nil
	}, e)
	if MayHaveCommitted(err) {
		if ierr := Invalidate(ctx, s.Invalidator, port.FeedEntry{KeyID: id}); err == nil {
			err = ierr
		}
	}
	return err
}
