package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	pgadapter "github.com/m9m/auth/adapter/postgres"
	sqliteadapter "github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/retention"
)

// RetentionModule wires the data lifecycle (contract §14): the janitor over
// the mode's purgers and janitor lock (RetentionStores, provided by
// storesModule), run every retention.interval (the first time at most a
// minute after start) on whichever instance gets the lock, its counts
// logged and exported as m9m_retention_deleted_total.
//
// Its stop hook runs before the database closes: the janitor is built from
// the database, so the database's hooks are registered first and stop last.
var RetentionModule = fx.Options(
	fx.Provide(NewJanitor),
	fx.Invoke(runJanitor),
)

// RetentionStores are the purgers and janitor lock of one mode.
type RetentionStores struct {
	Lock       port.JanitorLock
	Sessions   port.SessionPurger
	Keys       port.APIKeyPurger
	Audit      port.AuditPurger
	Executions port.ExecutionPurger
}

// PostgresRetention is the multi-instance mode's: the Postgres purgers and
// the advisory lock every instance on the database shares.
func PostgresRetention(db *sqlx.DB) RetentionStores {
	return RetentionStores{
		Lock:       pgadapter.NewJanitorLock(db),
		Sessions:   pgadapter.NewSessionStore(db),
		Keys:       pgadapter.NewAPIKeyStore(db),
		Audit:      pgadapter.NewAuditStore(db),
		Executions: pgadapter.NewExecutionStore(db),
	}
}

// SQLiteRetention is the embedded mode's: the SQLite purgers and a lock of
// the process itself (the file lock keeps every other process out).
func SQLiteRetention(db *sqliteadapter.DB) RetentionStores {
	return RetentionStores{
		Lock:       memory.NewJanitorLock(),
		Sessions:   sqliteadapter.NewSessionStore(db),
		Keys:       sqliteadapter.NewAPIKeyStore(db),
		Audit:      sqliteadapter.NewAuditStore(db),
		Executions: sqliteadapter.NewExecutionStore(db),
	}
}

// NewJanitor builds the janitor over the mode's stores; `m9m purge` uses it
// too, so a manual pass deletes exactly what the service's janitor would.
func NewJanitor(s RetentionStores, cfg config.RetentionConfig, jwt config.JWTConfig, clock port.Clock) *retention.Janitor {
	return retention.New(retention.Deps{
		Lock: s.Lock, Sessions: s.Sessions, Keys: s.Keys, Audit: s.Audit, Executions: s.Executions, Clock: clock,
	}, RetentionPolicy(cfg, jwt))
}

// RetentionPolicy maps the retention section to the janitor's policy. A
// session's last token lives security.jwt.expiration plus the leeway the
// verifier really applies.
func RetentionPolicy(cfg config.RetentionConfig, jwt config.JWTConfig) retention.Policy {
	return retention.Policy{
		Sessions:      cfg.Sessions,
		AuditEvents:   cfg.AuditEvents,
		Executions:    cfg.Executions,
		TokenLifetime: jwt.Expiration + authSettings(jwt).Leeway,
	}
}

// firstPassDelay is how long after start the first pass runs: one interval,
// but at most a minute, so that instances restarted more often than the
// interval (frequent deploys) still purge, without competing with start-up.
func firstPassDelay(interval time.Duration) time.Duration { return min(interval, time.Minute) }

// runJanitor runs a pass soon after start (firstPassDelay) and then every
// interval, off the request path, until the app stops (a pass in progress
// is cancelled between batches).
func runJanitor(lc fx.Lifecycle, j *retention.Janitor, cfg config.RetentionConfig, m *metrics.Metrics, log *zap.Logger) {
	l := log.Named("retention")
	counters := metrics.NewRetention(m)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Go(func() {
				timer := time.NewTimer(firstPassDelay(cfg.Interval))
				defer timer.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-timer.C:
					}
					r, err := j.Pass(ctx)
					if ctx.Err() != nil {
						return
					}
					ReportPass(l, counters, r, err)
					timer.Reset(cfg.Interval)
				}
			})
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
}

// ReportPass logs one pass's outcome and counts it in the metrics (r may be
// nil: metrics disabled).
func ReportPass(log *zap.Logger, r *metrics.Retention, rep retention.Report, err error) {
	for _, k := range rep.Kinds() {
		r.Deleted(k.Kind, k.Deleted)
	}
	fields := []zap.Field{
		zap.Int("sessions", rep.Sessions), zap.Int("api_keys", rep.APIKeys),
		zap.Int("audit_events", rep.AuditEvents), zap.Int("executions", rep.Executions),
	}
	switch {
	case err != nil:
		r.Pass(metrics.PassFailed)
		level := log.Error
		if errors.Is(err, context.Canceled) {
			level = log.Info
		}
		level("retention pass failed; will retry next interval", append(fields, zap.Error(err))...)
	case rep.Skipped:
		r.Pass(metrics.PassSkipped)
		log.Debug("retention pass skipped: another instance holds the janitor lock")
	default:
		r.Pass(metrics.PassDone)
		level := log.Debug
		if rep.Total() > 0 {
			level = log.Info
		}
		level("retention pass", fields...)
	}
}
