package app

import (
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/m9m/auth/adapter/metrics"
	redisadapter "github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/revocation"
)

// GateModule makes an authenticated JWT request cost one Redis round trip
// with rate limiting on: the Bearer authenticator checks revocation and
// spends the caller's budget in one gate script. With rate limiting off
// there is no gate and it checks the denylist alone (still one round trip).
var GateModule = fx.Options(
	fx.Decorate(countGate),
)

// newRequestGate is the Redis gate over the denylist and the budgets of
// performance.rate_limit (the limiter's, so one budget per principal), or
// nil when rate limiting is disabled.
func newRequestGate(cfg config.RateLimitConfig, rdb goredis.UniversalClient, prefix redis.Prefix, clock port.Clock, r *revocation.Rebuilder) (port.RequestGate, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	g, err := redisadapter.NewGate(rdb, string(prefix), clock, cfg.RequestsPerMinute, cfg.Burst)
	if err != nil {
		return nil, err
	}
	return revocation.Gate{RequestGate: g, Rebuilder: r}, nil // a cold denylist seen here starts its rebuild
}

// newBearerAuthenticator is the JWT authenticator: gated when there is a
// gate, checking the denylist alone otherwise.
func newBearerAuthenticator(verifier port.TokenVerifier, denylist port.TokenDenylist, gate port.RequestGate) *auth.Authenticator {
	if gate == nil {
		return auth.NewAuthenticator(verifier, denylist)
	}
	return auth.NewGatedAuthenticator(verifier, gate)
}

// countGate counts the gate's revocation hits and Redis failures when
// metrics are on.
func countGate(g port.RequestGate, m *metrics.Metrics) port.RequestGate {
	if g == nil || m == nil {
		return g
	}
	return metrics.CountingGate{RequestGate: g, Metrics: m}
}
