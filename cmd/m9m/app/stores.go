package app

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/memory"
	pgadapter "github.com/m9m/auth/adapter/postgres"
	sqliteadapter "github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/postgres"
	"github.com/m9m/auth/infra/redis"
	infrasqlite "github.com/m9m/auth/infra/sqlite"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/revocation"
)

// storesReady is provided once the mode's database exists; hooks that need
// the schema (the bootstrap admin) depend on it, so they are registered
// after the database's own start hook (which migrates) and run after it.
type storesReady struct{}

// storesModule picks the adapters of the configured mode (contract §13);
// nothing above the adapters knows which:
//
//   - embedded (database.url unset or sqlite:PATH): the SQLite stores, and
//     in process what Redis holds in the other mode — the denylist (its
//     durable record, revocations and refresh claims, in the same file and
//     rebuilt from it at start), the replay guard (kept in the file,
//     restored at start), the login throttle, the rate limiter and the
//     request gate;
//   - multi-instance (a Postgres database.url, with Redis): the Postgres
//     stores and the Redis adapters, shared by every instance.
func storesModule(db config.DatabaseConfig) fx.Option {
	if db.Embedded() {
		return embeddedStores
	}
	return sharedStores
}

var sharedStores = fx.Options(
	postgres.Module,
	redis.Module,
	RevocationModule,
	fx.Invoke(loadRedisScripts, startOutboxRelay),
	fx.Provide(
		fx.Annotate(pgadapter.NewUserStore, fx.As(new(port.UserStore)), fx.As(new(port.UserLister))),
		fx.Annotate(pgadapter.NewSessionStore, fx.As(new(port.SessionStore)), fx.As(new(port.SessionEnder))),
		fx.Annotate(pgadapter.NewUserRemover, fx.As(new(port.UserRemover))),
		fx.Annotate(pgadapter.NewAPIKeyStore, fx.As(new(port.APIKeyStore)), fx.As(new(port.APIKeyAuthStore))),
		fx.Annotate(pgadapter.NewAuditStore, fx.As(new(port.AuditStore))),
		fx.Annotate(pgadapter.NewWorkflowStore, fx.As(new(port.WorkflowStore)), fx.As(new(port.WorkflowLister))),
		fx.Annotate(pgadapter.NewExecutionStore, fx.As(new(port.ExecutionStore))),
		newLoginThrottle,
		newRateLimiter,
		newRequestGate,
		sharedKeyCache,
		sharedKeyInvalidator,
		newReplayGuard,
		sharedReadiness,
		postgresFailures,
		PostgresRetention,
		func(*sqlx.DB) storesReady { return storesReady{} },
	),
)

func sharedReadiness(db *sqlx.DB, rdb goredis.UniversalClient) readinessOut {
	return readinessOut{Checks: []httpapi.ReadinessCheck{
		{Name: "postgres", Check: db.PingContext},
		{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}}
}

var embeddedStores = fx.Options(
	infrasqlite.Module,
	fx.Provide(
		fx.Annotate(sqliteadapter.NewUserStore, fx.As(new(port.UserStore)), fx.As(new(port.UserLister))),
		fx.Annotate(sqliteadapter.NewSessionStore, fx.As(new(port.SessionStore)), fx.As(new(port.SessionEnder))),
		fx.Annotate(sqliteadapter.NewUserRemover, fx.As(new(port.UserRemover))),
		fx.Annotate(sqliteadapter.NewAPIKeyStore, fx.As(new(port.APIKeyStore)), fx.As(new(port.APIKeyAuthStore))),
		fx.Annotate(sqliteadapter.NewAuditStore, fx.As(new(port.AuditStore))),
		fx.Annotate(sqliteadapter.NewWorkflowStore, fx.As(new(port.WorkflowStore)), fx.As(new(port.WorkflowLister))),
		fx.Annotate(sqliteadapter.NewExecutionStore, fx.As(new(port.ExecutionStore))),
		fx.Annotate(sqliteadapter.NewRevocationRecord, fx.As(new(port.RevocationRecord))),
		newKeptState,
		newLocalDenylistCache,
		newLocalDenylist,
		newKeptReplayGuard,
		newLocalThrottle,
		newLocalLimiter,
		newLocalRateLimiter,
		newLocalGate,
		localKeyCache,
		localKeyInvalidator,
		embeddedReadiness,
		SQLiteRetention,
		func(*sqliteadapter.DB) storesReady { return storesReady{} },
	),
)

func embeddedReadiness(db *sqliteadapter.DB) readinessOut {
	return readinessOut{Checks: []httpapi.ReadinessCheck{{Name: "sqlite", Check: db.Ping}}}
}

// keptSweepEvery is how often expired revocations and replay digests are
// deleted from the file; in memory they are swept as they are written.
const keptSweepEvery = 10 * time.Minute

// newKeptState is the file's kept state (the replay guard's digests); it and
// the revocation record are swept of expired rows in the background while
// the app runs.
func newKeptState(lc fx.Lifecycle, db *sqliteadapter.DB, record port.RevocationRecord, clock port.Clock, log *zap.Logger) port.KeptState {
	kept := sqliteadapter.NewKeptState(db)
	sweep := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := record.Purge(ctx, clock.Now()); err != nil {
			log.Warn("purging expired revocations from the database failed; will retry", zap.Error(err))
		}
		if _, err := kept.Sweep(ctx, clock.Now()); err != nil {
			log.Warn("sweeping expired webhook replay digests from the database failed; will retry", zap.Error(err))
		}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { //nolint:gosec // G118: the sweeper outlives OnStart's context by design; done stops it
				defer close(stopped)
				t := time.NewTicker(keptSweepEvery)
				defer t.Stop()
				for {
					select {
					case <-done:
						return
					case <-t.C:
						sweep()
					}
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error {
			close(done)
			<-stopped
			return nil
		},
	})
	return kept
}

// newLocalDenylistCache is the in-process denylist every check reads (no
// request leaves the process), rebuilt from the file's revocation record at
// start, before the HTTP server serves.
func newLocalDenylistCache(lc fx.Lifecycle, record port.RevocationRecord, clock port.Clock) *memory.Denylist {
	d := memory.NewDenylist(clock)
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error { return d.Rebuild(ctx, record) }})
	return d
}

// newLocalDenylist is the embedded denylist, as in the multi-instance mode
// (contract §15): each revocation is written to the durable record (the
// file) before the in-process cache, and before the call answers. The
// cache lives and dies with the process, so nothing rebuilds it later.
func newLocalDenylist(record port.RevocationRecord, cache *memory.Denylist) port.TokenDenylist {
	return revocation.NewDenylist(record, cache, nil)
}

// newKeptReplayGuard is the embedded replay guard: its digests are written
// to the file's kept state before a delivery is accepted and restored at
// start.
func newKeptReplayGuard(lc fx.Lifecycle, kept port.KeptState, clock port.Clock) port.WebhookReplayGuard {
	g := memory.NewKeptReplayGuard(clock, kept)
	lc.Append(fx.Hook{OnStart: g.Restore})
	return g
}

// newLocalThrottle is the in-process login throttle of
// security.login_throttle (its counters are not kept: a restart forgets
// at most one window of failures), or none when it is disabled.
func newLocalThrottle(cfg config.LoginThrottleConfig, clock port.Clock) port.LoginThrottle {
	if !cfg.Enabled {
		return noThrottle{}
	}
	return memory.NewLoginThrottle(throttleLimits(cfg), clock)
}

// newLocalLimiter is the in-process GCRA budget of performance.rate_limit,
// nil when rate limiting is off.
func newLocalLimiter(cfg config.RateLimitConfig, clock port.Clock) (*memory.RateLimiter, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	return memory.NewRateLimiter(clock, cfg.RequestsPerMinute, cfg.Burst)
}

// newLocalRateLimiter exposes the limiter as the port, an untyped nil (no
// limit) when it is off.
func newLocalRateLimiter(l *memory.RateLimiter) port.RateLimiter {
	if l == nil {
		return nil
	}
	return l
}

// newLocalGate checks the in-process denylist and spends the same budgets
// as the limiter; nil (the authenticator checks the denylist alone) when
// rate limiting is off. It takes the denylist itself, not the port, which
// metrics decorate: the gate is counted once, as a whole (countGate).
func newLocalGate(l *memory.RateLimiter, deny *memory.Denylist) port.RequestGate {
	if l == nil {
		return nil
	}
	return memory.NewGate(deny, l)
}
