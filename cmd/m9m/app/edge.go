package app

import (
	"crypto/tls"

	"github.com/labstack/echo/v4"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/metrics"
	redisadapter "github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/postgres"
	"github.com/m9m/auth/infra/redis"
	"github.com/m9m/auth/infra/tlsreload"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/budget"
)

// EdgeModule wires what makes the service safe to expose and to run as
// several instances: the request rate limiter shared through Redis
// (performance.rate_limit), and the Prometheus metrics with their own
// listener (monitoring.metrics). TLS and CORS are part of the HTTP settings
// (newTLS, newCORS).
var EdgeModule = fx.Options(
	fx.Provide(newMetrics, newMetricsServer),
	fx.Decorate(countDenylist),
	fx.Invoke(func(*metrics.Server) {}),
)

// newRateLimiter is the GCRA limiter of performance.rate_limit, or none (a
// nil port.RateLimiter, which the server treats as "no limit") when it is
// disabled.
func newRateLimiter(cfg config.RateLimitConfig, rdb goredis.UniversalClient, prefix redis.Prefix, clock port.Clock) (port.RateLimiter, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	shared, err := redisadapter.NewRateLimiter(rdb, string(prefix), cfg.RequestsPerMinute, cfg.Burst)
	if err != nil {
		return nil, err
	}
	// Slices of the shared budgets spent in process (performance.rate_limit.slack;
	// 0: one round trip a request, as the shared limiter alone).
	return budget.New(shared, clock, budget.Settings{PerMinute: cfg.RequestsPerMinute, Burst: cfg.Burst, Slack: cfg.Slack})
}

type metricsOut struct {
	fx.Out
	HTTP       httpapi.Metrics
	Prometheus *metrics.Metrics
}

// newMetrics provides the Prometheus series, or NopMetrics and a nil
// *metrics.Metrics (which records nothing) when monitoring.metrics is off.
func newMetrics(cfg config.MetricsConfig) metricsOut {
	if !cfg.Enabled {
		return metricsOut{HTTP: httpapi.NopMetrics{}}
	}
	m := metrics.New()
	return metricsOut{HTTP: m, Prometheus: m}
}

// newMetricsServer runs the metrics listener, when enabled, for the app's
// lifetime; nil otherwise.
func newMetricsServer(lc fx.Lifecycle, cfg config.MetricsConfig, m *metrics.Metrics, log *zap.Logger) *metrics.Server {
	if !cfg.Enabled || m == nil {
		return nil
	}
	srv := metrics.NewServer(cfg.Listen, cfg.Path, m, log)
	lc.Append(fx.Hook{OnStart: srv.Start, OnStop: srv.Stop})
	return srv
}

// postgresFailures counts the Postgres pool's failures (every repository's)
// as dependency errors, as the denylist and gate count Redis's; with
// metrics off the pool is not wrapped at all.
func postgresFailures(m *metrics.Metrics) postgres.OnFailure {
	if m == nil {
		return nil
	}
	return func() { m.DependencyError(metrics.DependencyPostgres) }
}

// countDenylist counts revocation hits and Redis failures of the token
// denylist when metrics are on.
func countDenylist(d port.TokenDenylist, m *metrics.Metrics) port.TokenDenylist {
	if m == nil {
		return d
	}
	return metrics.CountingDenylist{TokenDenylist: d, Metrics: m}
}

// newTLS serves server.tls with a certificate re-read when its files change
// or on SIGHUP, or returns nil when TLS is off.
func newTLS(lc fx.Lifecycle, cfg config.TLSConfig, clock port.Clock, log *zap.Logger) (*tls.Config, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	r, err := tlsreload.New(cfg.CertFile, cfg.KeyFile, clock, log.Named("tls"))
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{OnStart: r.Start, OnStop: r.Stop})
	return r.Config(cfg.MinTLSVersion()), nil
}

// newCORS is the CORS middleware of security.cors, or nil when it is off.
func newCORS(cfg config.CORSConfig) (echo.MiddlewareFunc, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	return httpapi.NewCORS(httpapi.CORSSettings{
		AllowedOrigins:   cfg.AllowedOrigins,
		AllowedMethods:   cfg.AllowedMethods,
		AllowedHeaders:   cfg.AllowedHeaders,
		AllowCredentials: cfg.AllowCredentials,
		MaxAge:           cfg.MaxAge,
	})
}
