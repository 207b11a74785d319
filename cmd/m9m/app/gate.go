package app

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

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
//
// In the multi-instance mode every Redis script is also loaded at start
// (loadRedisScripts, in sharedStores), so that the first request after
// start costs one round trip too, not two (see redis.LoadScripts).
var GateModule = fx.Options(
	fx.Decorate(countGate),
)

// loadRedisScripts loads the Redis adapters' scripts when the app starts,
// after the client's own start hook and before the HTTP server listens. A
// Redis that is down at start is no reason not to start (contract §4):
// each script then loads on its first use.
func loadRedisScripts(lc fx.Lifecycle, rdb goredis.UniversalClient, log *zap.Logger) {
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		if err := redisadapter.LoadScripts(ctx, rdb); err != nil {
			log.Warn("redis scripts not loaded at start; each loads on its first use", zap.Error(err))
		}
		return nil
	}})
}

// newRequestGate is the Redis gate over the denylist and the budgets of
// performance.rate_limit (the limiter's, so one budget per principal), or
// nil when rate limiting is disabled.
//
// It answers from the follower's in-process set and the limiter while the
// follower is fresh (no round trip), and with the Redis gate's one script
// otherwise.
func newRequestGate(cfg config.RateLimitConfig, rdb goredis.UniversalClient, prefix redis.Prefix, clock port.Clock,
	r *revocation.Rebuilder, f *revocation.Follower, limiter port.RateLimiter,
) (port.RequestGate, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	g, err := redisadapter.NewGate(rdb, string(prefix), clock, cfg.RequestsPerMinute, cfg.Burst)
	if err != nil {
		return nil, err
	}
	shared := revocation.Gate{RequestGate: g, Rebuilder: r} // a cold denylist seen here starts its rebuild
	return revocation.LocalGate{Follower: f, Limiter: limiter, Shared: shared}, nil
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
