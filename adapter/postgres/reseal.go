package postgres

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

var _ port.SealedSecretStore = (*WorkflowStore)(nil)

// ListSealedSecrets pages through the sealed hmac secrets by workflow ID
// (the primary key serves the order and the cursor).
func (s *WorkflowStore) ListSealedSecrets(ctx context.Context, afterID string, limit int) ([]port.SealedSecret, error) {
	if limit < 1 {
		return nil, domain.InvalidField("limit", "must be at least 1")
	}
	var rows []struct {
		ID     string `db:"id"`
		Sealed []byte `db:"webhook_hmac_secret_sealed"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT id, webhook_hmac_secret_sealed FROM workflows
		WHERE webhook_hmac_secret_sealed IS NOT NULL AND id > $1
		ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]port.SealedSecret, len(rows))
	for i, r := range rows {
		out[i] = port.SealedSecret{WorkflowID: r.ID, Sealed: r.Sealed}
	}
	return out, nil
}

// ReplaceSealedSecret swaps the sealed secret only if it is still old: one
// statement, so an update racing the reseal either came first (no match,
// its value stays) or comes after (and wins).
func (s *WorkflowStore) ReplaceSealedSecret(ctx context.Context, workflowID string, old, sealed []byte) (bool, error) {
	n, err := rowsAffected(s.db.ExecContext(ctx, `
		UPDATE workflows SET webhook_hmac_secret_sealed = $3
		WHERE id = $1 AND webhook_hmac_secret_sealed = $2`, workflowID, old, sealed))
	return n == 1, err
}
