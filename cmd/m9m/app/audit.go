package app

import (
	"context"
	"errors"

	"go.uber.org/fx"
	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/metrics"
	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/audit"
)

// AuditModule wires the audit trail (contract §9): the Postgres store, the
// background writer that takes the events recording no change (failed
// logins, throttling, refused credentials: port.AuditLog), the admin listing
// and its route. Events of changes are written by the stores, in the
// change's transaction (see port.AuditStore); countAudited counts them.
//
// Shutdown order matters: the writer must flush after the HTTP server has
// drained (requests still record events) and before the Postgres pool
// closes. fx stops hooks in reverse order of registration; the writer is
// built from the store, which needs *sqlx.DB, so the pool's hooks come
// first; and the Invoke below builds the writer before the HTTP server
// (AuditModule sits before the server's Invoke in Options), so the server
// stops first.
var AuditModule = fx.Options(
	fx.Provide(
		fx.Annotate(pgadapter.NewAuditStore, fx.As(new(port.AuditStore))),
		newAuditWriter,
		func(w *audit.Writer) port.AuditLog { return w },
		audit.NewLister,
		fx.Annotate(httpapi.AuditRoutes, fx.ResultTags(`group:"routes"`)),
	),
	fx.Invoke(func(port.AuditLog) {}),
)

// newAuditWriter builds the writer from the audit section and ties it to the
// lifecycle: start with the app, flush everything queued on stop.
func newAuditWriter(lc fx.Lifecycle, store port.AuditStore, clock port.Clock, cfg config.AuditConfig, log *zap.Logger, m *metrics.Metrics) *audit.Writer {
	w := audit.NewWriter(store, clock, audit.WriterConfig{
		QueueSize:     cfg.QueueSize,
		BatchSize:     cfg.BatchSize,
		FlushInterval: cfg.FlushInterval,
	}, auditReporter(log.Named("audit"), m))
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { w.Start(); return nil },
		OnStop:  w.Stop,
	})
	return w
}

// auditReporter logs and counts lost audit events: they are never lost
// silently.
func auditReporter(log *zap.Logger, m *metrics.Metrics) audit.Reporter {
	return audit.ReporterFunc(func(count, total uint64, cause error) {
		reason, label := "insert failed", metrics.AuditDropInsertFailed
		switch {
		case errors.Is(cause, audit.ErrQueueFull):
			reason, label = "queue full", metrics.AuditDropQueueFull
		case errors.Is(cause, audit.ErrStopped):
			reason, label = "recorded after shutdown", metrics.AuditDropStopped
		}
		m.AuditDropped(label, count)
		log.Error("audit events dropped",
			zap.Uint64("count", count),
			zap.Uint64("dropped_total", total),
			zap.String("reason", reason),
			zap.Error(cause))
	})
}

// The count* helpers wrap the stores the use cases write through, so the
// audit events committed with their changes are counted
// (m9m_audit_events_durable_total) when metrics are on. They wrap where the
// use cases are built rather than with fx.Decorate, which allows one
// decoration per type and is the tests' to use.

func countUsers(s port.UserStore, m *metrics.Metrics) port.UserStore {
	if m == nil {
		return s
	}
	return metrics.CountingUserStore{UserStore: s, Metrics: m}
}

func countRemover(r port.UserRemover, m *metrics.Metrics) port.UserRemover {
	if m == nil {
		return r
	}
	return metrics.CountingUserRemover{UserRemover: r, Metrics: m}
}

func countSessions(s port.SessionStore, m *metrics.Metrics) port.SessionStore {
	if m == nil {
		return s
	}
	return metrics.CountingSessionStore{SessionStore: s, Metrics: m}
}

func countKeys(s port.APIKeyStore, m *metrics.Metrics) port.APIKeyStore {
	if m == nil {
		return s
	}
	return metrics.CountingAPIKeyStore{APIKeyStore: s, Metrics: m}
}

func countWorkflows(s port.WorkflowStore, m *metrics.Metrics) port.WorkflowStore {
	if m == nil {
		return s
	}
	return metrics.CountingWorkflowStore{WorkflowStore: s, Metrics: m}
}
