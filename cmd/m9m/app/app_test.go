package app_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/metrics"
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

// TestPostgresFailuresAreCountedAsDependencyErrors runs the real
// composition against a Postgres that is not there: start fails (nothing
// can work without the database), and the failed connection attempt is
// counted as m9m_dependency_errors_total{dependency="postgres"}.
func TestPostgresFailuresAreCountedAsDependencyErrors(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Security.JWT.Secret = "0123456789abcdef0123456789abcdef"
	cfg.Database.URL = "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
	cfg.Monitoring.Metrics.Enabled = true
	cfg.Monitoring.Metrics.Listen = "127.0.0.1:0"
	var m *metrics.Metrics
	quiet := fx.Decorate(func() *zap.Logger { return zap.NewNop() })
	a := fx.New(app.Options(cfg, fx.Populate(&m), quiet), fx.NopLogger)
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Start(ctx); err == nil {
		_ = a.Stop(ctx)
		t.Fatal("started without a database")
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "m9m_dependency_errors_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "dependency" && l.GetValue() == "postgres" {
					if v := s.GetCounter().GetValue(); v < 1 {
						t.Fatalf("postgres dependency errors = %v, want at least the failed connection", v)
					}
					return
				}
			}
		}
	}
	t.Fatal("no m9m_dependency_errors_total{dependency=\"postgres\"} series")
}
