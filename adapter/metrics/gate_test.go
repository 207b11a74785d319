package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

type stubGate struct{ err error }

func (g stubGate) CheckAndSpend(context.Context, session.Claims, string) (port.RateDecision, error) {
	return port.RateDecision{Allowed: g.err == nil}, g.err
}

func TestCountingGate(t *testing.T) {
	m := metrics.New()
	ctx := context.Background()
	for _, err := range []error{nil, domain.ErrUnauthenticated, domain.ErrUnauthenticated, domain.Unavailable("redis", errors.New("down"))} {
		g := metrics.CountingGate{RequestGate: stubGate{err: err}, Metrics: m}
		if _, got := g.CheckAndSpend(ctx, session.Claims{}, "user:u1"); !errors.Is(got, err) {
			t.Fatalf("CheckAndSpend returned %v, want %v passed through", got, err)
		}
	}
	out := scrape(t, m, "/metrics")
	for _, want := range []string{"m9m_token_revocation_hits_total 2", `m9m_dependency_errors_total{dependency="redis"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, grep(out, "m9m_"))
		}
	}
}
