package revocation

import (
	"context"

	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Gate is a port.RequestGate that tells the Rebuilder when the gate's one
// round trip found the denylist cache cold, as Denylist.Check does.
type Gate struct {
	port.RequestGate
	Rebuilder *Rebuilder
}

var _ port.RequestGate = Gate{}

// CheckAndSpend asks the wrapped gate.
func (g Gate) CheckAndSpend(ctx context.Context, c session.Claims, rateKey string) (port.RateDecision, error) {
	d, err := g.RequestGate.CheckAndSpend(ctx, c, rateKey)
	g.Rebuilder.Notice(err)
	return d, err
}
