package metrics

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// CountingGate counts what the request gate decides about tokens, as
// CountingDenylist does for the plain check, so revocation hits and Redis
// failures are counted whichever of the two the Bearer authenticator uses.
type CountingGate struct {
	port.RequestGate
	Metrics *Metrics
}

var _ port.RequestGate = CountingGate{}

// CheckAndSpend asks the wrapped gate and counts a refusal as a revocation
// hit and an unavailable store as a Redis error.
func (g CountingGate) CheckAndSpend(ctx context.Context, c session.Claims, rateKey string) (port.RateDecision, error) {
	d, err := g.RequestGate.CheckAndSpend(ctx, c, rateKey)
	if err != nil {
		switch domain.KindOf(err) {
		case domain.KindUnauthenticated:
			g.Metrics.RevocationHit()
		case domain.KindUnavailable:
			g.Metrics.DependencyError(DependencyRedis)
		}
	}
	return d, err
}
