package metrics

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// CountingDenylist counts what the token denylist decides on the hot path
// (revocation hits, Redis failures) without the denylist knowing about
// metrics. Every other method passes through.
type CountingDenylist struct {
	port.TokenDenylist
	Metrics *Metrics
}

var _ port.TokenDenylist = CountingDenylist{}

// Check asks the wrapped denylist and counts a refusal as a revocation hit
// and an unavailable store as a Redis error.
func (d CountingDenylist) Check(ctx context.Context, c session.Claims) error {
	err := d.TokenDenylist.Check(ctx, c)
	if err == nil {
		return nil
	}
	switch domain.KindOf(err) {
	case domain.KindUnauthenticated:
		d.Metrics.RevocationHit()
	case domain.KindUnavailable:
		d.Metrics.DependencyError(DependencyRedis)
	}
	return err
}
