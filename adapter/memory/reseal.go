package memory

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/m9m/auth/port"
)

var _ port.SealedSecretStore = (*WorkflowStore)(nil)

// ListSealedSecrets pages through the sealed hmac secrets by workflow ID.
func (s *WorkflowStore) ListSealedSecrets(ctx context.Context, afterID string, limit int) ([]port.SealedSecret, error) {
	if err := checkLimit(ctx, limit); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []port.SealedSecret
	for id, wf := range s.workflows {
		if id > afterID && wf.Webhook != nil && len(wf.Webhook.Auth.HMACSecretSealed) > 0 {
			out = append(out, port.SealedSecret{WorkflowID: id, Sealed: bytes.Clone(wf.Webhook.Auth.HMACSecretSealed)})
		}
	}
	slices.SortFunc(out, func(a, b port.SealedSecret) int { return strings.Compare(a.WorkflowID, b.WorkflowID) })
	return out[:min(limit, len(out))], nil
}

// ReplaceSealedSecret swaps the sealed secret if it is still old.
func (s *WorkflowStore) ReplaceSealedSecret(ctx context.Context, workflowID string, old, sealed []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wf, ok := s.workflows[workflowID]
	if !ok || wf.Webhook == nil || !bytes.Equal(wf.Webhook.Auth.HMACSecretSealed, old) {
		return false, nil
	}
	wf = copyWorkflow(wf)
	wf.Webhook.Auth.HMACSecretSealed = bytes.Clone(sealed)
	s.workflows[workflowID] = wf
	return true, nil
}
