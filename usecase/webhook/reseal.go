package webhook

import (
	"context"
	"fmt"

	"github.com/m9m/auth/port"
)

// ResealBatch is how many secrets one page of a reseal reads.
const ResealBatch = 500

// ResealResult is what one reseal run did.
type ResealResult struct {
	// Checked is how many sealed secrets were read.
	Checked int
	// Resealed is how many were moved to the current key.
	Resealed int
	// Changed is how many were replaced or removed by a concurrent update
	// while the reseal ran (that update sealed with the key of the instance
	// that made it: run the reseal again once every instance has the
	// current key).
	Changed int
	// Unreadable names the workflows whose secret no configured key opens:
	// they cannot be resealed, and their hmac deliveries already fail.
	Unreadable []string
}

// Reseal re-seals every hmac secret that is not sealed with the current key,
// page by page (batch secrets at a time, ResealBatch when 0). It is safe
// while the service runs: each secret is swapped only if it is still the
// value read (a concurrent update wins), and it is re-runnable: a secret
// already under the current key is left alone. It stops at the first store
// error, returning what it did so far.
func Reseal(ctx context.Context, store port.SealedSecretStore, sealer port.SecretResealer, batch int) (ResealResult, error) {
	if batch <= 0 {
		batch = ResealBatch
	}
	var r ResealResult
	after := ""
	for {
		page, err := store.ListSealedSecrets(ctx, after, batch)
		if err != nil {
			return r, fmt.Errorf("reseal: list sealed secrets: %w", err)
		}
		for _, s := range page {
			after = s.WorkflowID
			r.Checked++
			next, changed, err := sealer.Reseal(s.Sealed)
			if err != nil {
				r.Unreadable = append(r.Unreadable, s.WorkflowID)
				continue
			}
			if !changed {
				continue
			}
			ok, err := store.ReplaceSealedSecret(ctx, s.WorkflowID, s.Sealed, next)
			if err != nil {
				return r, fmt.Errorf("reseal: workflow %s: %w", s.WorkflowID, err)
			}
			if ok {
				r.Resealed++
			} else {
				r.Changed++
			}
		}
		if len(page) < batch {
			return r, nil
		}
	}
}
