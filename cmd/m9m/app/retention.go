package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/metrics"
	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/retention"
)

// RetentionModule wires the data lifecycle (contract §14): the janitor over
// the Postgres stores and advisory lock, run every retention.interval (the
// first time at most a minute after start) on whichever instance gets the
// lock, its counts logged and exported as m9m_retention_deleted_total.
//
// Its stop hook runs before the Postgres pool closes: the janitor is built
// from the pool, so the pool's hooks are registered first and stop last.
var RetentionModule = fx.Options(
	fx.Provide(NewJanitor),
	fx.Invoke(runJanitor),
)

// NewJanitor builds the janitor over Postgres; `m9m purge` uses it too, so a
// manual pass deletes exactly what the service's janitor would.
func NewJanitor(db *sqlx.DB, cfg config.RetentionConfig, jwt config.JWTConfig, clock port.Clock) *retention.Janitor {
	return retention.New(retention.Deps{
		Lock:       pgadapter.NewJanitorLock(db),
		Sessions:   pgadapter.NewSessionStore(db),
		Keys:       pgadapter.NewAPIKeyStore(db),
		Audit:      pgadapter.NewAuditStore(db),
		Executions: pgadapter.NewExecutionStore(db),
		Clock:      clock,
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
