package app

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	pgadapter "github.com/m9m/auth/adapter/postgres"
	redisadapter "github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/revocation"
)

// RevocationModule makes revocations outlive Redis's memory (contract §15):
// Postgres holds their durable record, Redis is the cache the hot path reads,
// written in step (record first), and the Rebuilder refills it when its
// epoch marker is missing: at start, as soon as a check finds it cold, and
// on its watch. /ready reports "revocations" failing while it is cold.
var RevocationModule = fx.Options(
	fx.Supply(revocation.Settings{}), // the defaults; tests may fx.Decorate them
	fx.Provide(
		fx.Annotate(pgadapter.NewRevocationRecord, fx.As(new(port.RevocationRecord))),
		newDenylistCache,
		newRebuilder,
		newFollower,
		newDenylist,
		fx.Annotate(revocationReadiness, fx.ResultTags(`group:"readiness"`)),
		fx.Annotate(pgadapter.NewKnownClientSource, fx.As(new(port.KnownClientSource))),
	),
	fx.Invoke(replayKnownClientsOnRebuild),
)

// replayKnownClientsOnRebuild makes the login throttle's known clients
// (kept in the same Redis) survive its loss: after the instance that rebuilt
// the denylist has finished, it replays the networks of the sessions created
// within known_client_ttl. Device cookies are not stored with sessions and
// are not rebuilt.
func replayKnownClientsOnRebuild(cache *redisadapter.Denylist, source port.KnownClientSource, throttle port.LoginThrottle,
	cfg config.LoginThrottleConfig, clock port.Clock, log *zap.Logger,
) {
	if !cfg.Enabled {
		return
	}
	ttl := port.ThrottleLimits{KnownClientTTL: cfg.KnownClientTTL}.WithDefaults().KnownClientTTL
	l := log.Named("throttle")
	cache.OnRebuilt(func(ctx context.Context) {
		start := time.Now()
		n, err := auth.ReplayKnownClients(ctx, source, throttle, clock.Now(), ttl)
		if err != nil {
			l.Warn("replaying the login throttle's known clients from the sessions failed; they are remembered again at their next login", zap.Int("replayed", n), zap.Error(err))
			return
		}
		l.Info("login throttle's known clients replayed from the sessions", zap.Int("sessions", n), zap.Duration("took", time.Since(start)))
	})
}

// newDenylistCache is the Redis token denylist, shared by every instance.
// Its feed keeps entries for the longest lifetime a credential they concern
// can have (an access token's, leeway included), and at least an hour.
func newDenylistCache(rdb goredis.UniversalClient, prefix redis.Prefix, clock port.Clock, jwt config.JWTConfig) *redisadapter.Denylist {
	d := redisadapter.NewDenylist(rdb, string(prefix), clock)
	d.SetFeedRetention(max(jwt.Expiration+jwt.Leeway, time.Hour))
	return d
}

// newDenylist is the service's denylist: durable record first, then Redis
// (whose write appends to the feed), answered from the follower's
// in-process set while it is fresh.
func newDenylist(record port.RevocationRecord, cache *redisadapter.Denylist, r *revocation.Rebuilder, f *revocation.Follower) port.TokenDenylist {
	return revocation.NewDenylist(record, cache, r).WithFollower(f)
}

// newFollower loads the revocations in force into this process and follows
// the feed (contract §15), started after the Rebuilder has made the Redis
// copy complete at start. Its loads and failures are logged; while it
// cannot follow, every check is the one Redis round trip of before.
func newFollower(lc fx.Lifecycle, cache *redisadapter.Denylist, record port.RevocationRecord, clock port.Clock,
	cfg config.RedisConfig, _ *revocation.Rebuilder, m *metrics.Metrics, log *zap.Logger,
) *revocation.Follower {
	l := log.Named("revocation")
	failing := false
	var series *metrics.Follower // set below, before the loop starts
	f := revocation.NewFollower(cache.Feed(), record, func() revocation.LocalSet { return memory.NewDenylist(clock) },
		revocation.FollowSettings{Lease: cfg.RevocationLease}, func(e revocation.FollowEvent) {
			switch {
			case e.Err != nil:
				if !failing { // once per outage, not at the retry rate
					l.Warn("following the revocation feed failed; checks go to Redis until it is caught up again", zap.Error(e.Err))
				}
				failing = true
			case e.Loaded:
				failing = false
				series.Loaded(e.Gap)
				l.Info("revocations loaded into this process", zap.Bool("after_gap", e.Gap), zap.Duration("took", e.Took))
			default:
				failing = false
			}
		})
	series = metrics.NewFollower(m, f.Fresh)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			f.Start()
			return nil
		},
		OnStop: f.Stop,
	})
	return f
}

// startRebuildTimeout bounds the rebuild at start: past it the server starts
// anyway (JWT requests answer 503 until the background loop has finished).
const startRebuildTimeout = 10 * time.Second

// newRebuilder builds the cache from the record at start if it is cold,
// then keeps watching it, and logs every rebuild.
func newRebuilder(lc fx.Lifecycle, cache *redisadapter.Denylist, record port.RevocationRecord, clock port.Clock,
	settings revocation.Settings, log *zap.Logger,
) *revocation.Rebuilder {
	l := log.Named("revocation")
	r := revocation.NewRebuilder(cache, record, clock, settings, func(o revocation.Outcome) {
		switch {
		case o.Err != nil:
			l.Warn("rebuilding the Redis denylist from Postgres failed; JWT requests answer 503 until it succeeds", zap.Error(o.Err))
		case o.Rebuilt:
			l.Info("Redis denylist rebuilt from the durable record", zap.Duration("took", o.Took))
		case o.Purged > 0:
			l.Debug("expired revocations purged", zap.Int64("deleted", o.Purged))
		}
	})
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, startRebuildTimeout)
			defer cancel()
			_ = r.EnsureReady(ctx) // a failure was logged; the loop retries
			r.Start()
			return nil
		},
		OnStop: r.Stop,
	})
	return r
}

// revocationReadiness fails /ready while the denylist cache is cold.
func revocationReadiness(cache *redisadapter.Denylist) httpapi.ReadinessCheck {
	return httpapi.ReadinessCheck{Name: "revocations", Check: cache.Ready}
}
