package port

import "context"

// SecretResealer moves sealed secrets to the current key after a key
// rotation (security.previous_webhook_encryption_keys).
type SecretResealer interface {
	// Reseal returns sealed re-sealed under the current key and true, or
	// nil and false when it already is. A value no configured key opens is
	// an error that never contains the secret.
	Reseal(sealed []byte) (resealed []byte, changed bool, err error)
}

// SealedSecret is the sealed hmac secret of one workflow's webhook.
type SealedSecret struct {
	WorkflowID string
	Sealed     []byte
}

// SealedSecretStore reaches every sealed webhook secret, for `m9m webhooks
// reseal`, in pages and without loading whole workflows.
type SealedSecretStore interface {
	// ListSealedSecrets returns up to limit (at least 1) sealed secrets of
	// workflows whose ID sorts after afterID ("" for the first page), by ID.
	ListSealedSecrets(ctx context.Context, afterID string, limit int) ([]SealedSecret, error)
	// ReplaceSealedSecret stores sealed as the secret of workflowID if its
	// secret is still old, and reports whether it did: false when the
	// workflow changed or went meanwhile (a concurrent update wins).
	// Nothing else of the workflow changes, its UpdatedAt included.
	ReplaceSealedSecret(ctx context.Context, workflowID string, old, sealed []byte) (bool, error)
}
