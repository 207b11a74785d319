package app_test

import (
	"testing"

	"go.uber.org/fx"

	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
)

// TestCompositionIsComplete fails `go test` (not production) when a provider
// is missing or a dependency cycle creeps into the wiring, in both modes and
// with rate limiting on and off.
func TestCompositionIsComplete(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name, db, redis string
	}{
		{"embedded", "", ""},
		{"embedded file", "sqlite:" + t.TempDir() + "/m9m.db", ""},
		{"postgres and redis", config.DefaultDatabaseURL, config.DefaultRedisURL},
	} {
		for _, limit := range []bool{true, false} {
			cfg := config.Default()
			cfg.Database.URL, cfg.Redis.URL = mode.db, mode.redis
			cfg.Security.JWT.Secret = "0123456789abcdef0123456789abcdef"
			cfg.Security.BasicAuth.Enabled = true
			cfg.Security.BasicAuth.Username = "ops"
			cfg.Security.BasicAuth.Password = "a-long-enough-password"
			cfg.Monitoring.Metrics.Enabled = true
			cfg.Performance.RateLimit.Enabled = limit
			if err := cfg.Validate(); err != nil {
				t.Fatalf("%s: %v", mode.name, err)
			}
			if err := fx.ValidateApp(app.Options(cfg)); err != nil {
				t.Fatalf("%s (rate limit %v): fx composition is invalid: %v", mode.name, limit, err)
			}
		}
	}
}
