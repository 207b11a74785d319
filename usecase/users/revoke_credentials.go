package users

import (
	"context"
	"strconv"
	"time"

	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// RevokedCredentials is what RevokeCredentials cut off.
type RevokedCredentials struct {
	// KeysRevoked counts the API keys revoked (those in a rotation's grace
	// included: their grace ends).
	KeysRevoked int
}

// RevokeCredentials is the explicit "cut this user off" action, for a
// compromise: every session of the user ends (every token of them stops),
// on every instance, at once; every API key of the user is
// revoked for good (unlike a disable, which re-enabling undoes, and unlike a
// password reset, which leaves API keys working). The account itself stays
// as it is: enabled or not, same password. Unknown user is 404. Once the
// keys are revoked their cached grants are invalidated on every instance;
// if that fails the answer is 503 although the keys are revoked.
//
// Sessions are cut before keys are: a caller racing the action with a key
// cannot mint a session (keys cannot log in) and a caller with a session
// cannot mint a key that survives (keys are listed and revoked after).
func (s *Service) RevokeCredentials(ctx context.Context, p principal.Principal, client principal.Client, id string) (RevokedCredentials, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return RevokedCredentials{}, err
	}
	var out RevokedCredentials
	// No CutOff (a per-user "not before" of the current second): the
	// account stays usable, and a login right after the action must work.
	// Every session row exists (the user is not deleted), so ending them
	// all reaches every token.
	if s.Revoker != nil {
		if err := s.Revoker.EndSessionsAround(ctx, id, "", func(context.Context) error { return nil }); err != nil {
			return out, err
		}
	}
	if s.Keys != nil {
		// Each revocation is audited with its write, as a revoke by hand is.
		keyEvent := func(keyID string) audit.Event {
			e := s.event(audit.ActionAPIKeyRevoke, p, client, id)
			e.TargetType, e.TargetID = "api_key", keyID
			e.Metadata = withEntry(e.Metadata, "ownerId", id, "reason", "revoke-credentials")
			return e
		}
		n, err := revokeAllKeys(ctx, s.Keys, id, s.Clock.Now(), keyEvent)
		out.KeysRevoked = n
		// One invalidation for every key of the owner, once the revocations
		// are committed (each in its own write), and also when some failed:
		// those that did commit must not stay cached.
		if n > 0 || (err != nil && mayHaveCommitted(err)) {
			if ierr := s.invalidateOwner(ctx, id); err == nil {
				err = ierr
			}
		}
		if err != nil {
			return out, err
		}
	}
	if s.Audit != nil {
		e := s.event(audit.ActionUserRevokeCredentials, p, client, id)
		e.Metadata = withEntry(e.Metadata, "keysRevoked", strconv.Itoa(out.KeysRevoked))
		s.Audit.Record(ctx, e)
	}
	return out, nil
}

// revokeAllKeys revokes every key of ownerID that is not revoked yet or is
// inside a rotation's grace (expired ones too, so that nothing is left) and
// returns how many it revoked. Each round lists the first page again: what
// it revokes is no longer listed.
func revokeAllKeys(ctx context.Context, keys port.APIKeyStore, ownerID string, now time.Time, event func(keyID string) audit.Event) (int, error) {
	n := 0
	for {
		page, _, err := keys.ListByOwner(ctx, ownerID, now, "", port.MaxListLimit)
		if err != nil {
			return n, err
		}
		for _, k := range page {
			if _, err := keys.Update(ctx, k.ID, func(k *apikey.Key) error {
				if k.RevokedAt == nil {
					k.RevokedAt = &now
				}
				k.GraceUntil = nil
				return nil
			}, event(k.ID)); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < port.MaxListLimit {
			return n, nil
		}
	}
}
