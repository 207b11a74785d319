package compose_test

import (
	"strings"
	"testing"

	"github.com/m9m/auth/infra/config"
)

// TestWebhookKeyHasALoudDevelopmentDefault: `docker compose up` runs hmac
// webhooks out of the box, with a key whose name says it is insecure; a key
// from .env replaces it.
func TestWebhookKeyHasALoudDevelopmentDefault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value string
	}{{"unset", ""}, {"set", "an-operator-chosen-key-0123456789abcdef"}} {
		env := filledEnv(t)
		delete(env, "M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY")
		if tc.value != "" {
			env["M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY"] = tc.value
		}
		p, err := loadProject(t, env)
		if err != nil {
			t.Fatalf("%s: docker-compose.yml does not load: %v", tc.name, err)
		}
		cfg, err := config.Load("", appEnviron(t, p.Services["app"]))
		if err != nil {
			t.Fatalf("%s: app environment is not a valid config: %v", tc.name, err)
		}
		key := cfg.Security.WebhookEncryptionKey
		switch {
		case len(key) < config.MinWebhookKeyBytes:
			t.Fatalf("%s: webhook key of %d bytes: hmac webhooks would not work", tc.name, len(key))
		case tc.value == "" && !strings.Contains(key, "INSECURE"):
			t.Fatalf("the development default does not say it is insecure")
		case tc.value != "" && key != tc.value:
			t.Fatalf("the key from .env is not used")
		}
	}
}
