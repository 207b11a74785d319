package apikey

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// RotateInput asks for an overlap between the old key and its successor.
type RotateInput struct {
	// GraceSeconds keeps the old key working this long (0–MaxGraceSeconds);
	// 0 stops it at once.
	GraceSeconds int
}

// Rotate replaces the key with id by a new key with the same owner, name,
// scopes and expiry, and returns the new key (shown this once). The old key
// stops at once, or after in.GraceSeconds so clients can switch without an
// outage. The retirement and the new key are stored in one transaction.
// Like Create, it refuses API-key callers; like Revoke, it is for the
// owner or an admin. A revoked (or already rotated) key or an expired one
// cannot be rotated: 409. Once the rotation is committed the old key's
// cached grants are invalidated (Invalidator: its revocation or grace must
// reach every instance); if that fails the answer is 503 and the new key,
// stored but never shown, is lost to its owner, who revokes it from the
// listing and creates another.
func (s *Service) Rotate(ctx context.Context, p principal.Principal, client principal.Client, id string, in RotateInput) (Issued, error) {
	if p.Method == principal.MethodAPIKey {
		return Issued{}, errKeyMintsKey
	}
	if in.GraceSeconds < 0 || in.GraceSeconds > MaxGraceSeconds {
		return Issued{}, domain.InvalidField("graceSeconds", fmt.Sprintf("must be between 0 and %d", MaxGraceSeconds))
	}
	old, err := s.authorize(ctx, p, client, audit.ActionAPIKeyRotate, id)
	if err != nil {
		return Issued{}, err
	}
	now := s.now()
	if err := rotatable(*old, now); err != nil {
		return Issued{}, err
	}
	issued, err := s.mint(ak.Key{OwnerID: old.OwnerID, Name: old.Name, Scopes: old.Scopes, ExpiresAt: old.ExpiresAt}, now)
	if err != nil {
		return Issued{}, err
	}
	e := s.event(audit.ActionAPIKeyRotate, audit.OutcomeSuccess, p, client, id)
	e.Metadata["successorId"] = issued.Key.ID
	e.Metadata["graceSeconds"] = strconv.Itoa(in.GraceSeconds)
	e.Metadata["ownerId"] = old.OwnerID
	_, err = s.Keys.Rotate(ctx, id, issued.Key, s.settings.MaxPerUser, func(k *ak.Key) error {
		// Checked again under the row lock: of two racing rotations, one wins.
		if err := rotatable(*k, now); err != nil {
			return err
		}
		k.RevokedAt = &now
		k.GraceUntil = nil
		if in.GraceSeconds > 0 {
			until := now.Add(time.Duration(in.GraceSeconds) * time.Second)
			k.GraceUntil = &until
		}
		return nil
	}, e)
	if MayHaveCommitted(err) {
		if ierr := Invalidate(ctx, s.Invalidator, port.FeedEntry{KeyID: id}); err == nil {
			err = ierr
		}
	}
	if errors.Is(err, port.ErrKeyLimit) {
		return Issued{}, domain.ErrConflict.WithMessage(fmt.Sprintf(
			"A key in its rotation grace still counts toward the maximum of %d active API keys; rotate without graceSeconds or revoke one first", s.settings.MaxPerUser))
	}
	if err != nil {
		return Issued{}, err
	}
	return issued, nil
}

// rotatable reports why k cannot be rotated at now, if it cannot.
func rotatable(k ak.Key, now time.Time) error {
	if k.RevokedAt != nil {
		return errRevoked
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return errExpired
	}
	return nil
}
