package compose_test

import (
	"testing"

	"github.com/m9m/auth/infra/config"
)

// TestWebhookKeyFromASecret: `docker compose up` runs hmac webhooks out of
// the box, with the random key scripts/compose-secrets.sh writes to
// ./secrets/webhook_encryption_key, mounted as a compose secret.
func TestWebhookKeyFromASecret(t *testing.T) {
	t.Parallel()
	app := project(t).Services["app"]
	cfg, err := config.Load("", mountSecrets(t, app, appEnviron(t, app)))
	if err != nil {
		t.Fatalf("app environment is not a valid config: %v", err)
	}
	key := cfg.Security.WebhookEncryptionKey
	if len(key) < config.MinWebhookKeyBytes || key != secretFiles["webhook_encryption_key"] {
		t.Fatalf("webhook key of %d bytes, want the webhook_encryption_key secret", len(key))
	}
}
