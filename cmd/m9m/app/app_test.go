package app_test

import (
	"testing"

	"go.uber.org/fx"

	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
)

// TestCompositionIsComplete fails `go test` (not production) when a provider
// is missing or a dependency cycle creeps into the wiring.
func TestCompositionIsComplete(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Security.JWT.Secret = "0123456789abcdef0123456789abcdef"
	cfg.Security.BasicAuth.Enabled = true
	cfg.Security.BasicAuth.Username = "ops"
	cfg.Security.BasicAuth.Password = "a-long-enough-password"
	cfg.Monitoring.Metrics.Enabled = true
	if err := fx.ValidateApp(app.Options(cfg)); err != nil {
		t.Fatalf("fx composition is invalid: %v", err)
	}
}
