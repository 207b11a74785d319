// Package metrics is m9m's Prometheus adapter: the counters and histograms
// operators alert on (failed logins, throttling, revocations, dependency
// outages, latency), kept in a private registry and served on a listener of
// their own, so the metrics never share a port with the public API.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Reasons of m9m_audit_events_dropped_total.
const (
	AuditDropQueueFull    = "queue_full"
	AuditDropInsertFailed = "insert_failed"
	AuditDropStopped      = "stopped"
)

// Dependency names used as the `dependency` label.
const (
	DependencyRedis    = "redis"
	DependencyPostgres = "postgres"
)

// Metrics holds every series m9m exports. Its methods are safe for
// concurrent use and never block on anything but memory. A nil *Metrics
// (metrics disabled) accepts every call and records nothing, so adapters
// can count without checking whether anyone listens.
type Metrics struct {
	registry      *prometheus.Registry
	authAttempts  *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	limiterErrors prometheus.Counter
	revocations   prometheus.Counter
	depErrors     *prometheus.CounterVec
	unavailable   *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	auditDurable  *prometheus.CounterVec
	auditDropped  *prometheus.CounterVec
}

// New registers m9m's series, plus the Go runtime and process collectors, in
// a fresh registry (never the global one, so tests can build several).
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		authAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_auth_attempts_total",
			Help: "Authentication attempts on protected routes, by method (jwt, api_key, basic, malformed) and outcome (success, failure, error).",
		}, []string{"method", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_rate_limited_total",
			Help: "Requests refused with 429 by the request rate limit, by route template.",
		}, []string{"route"}),
		limiterErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "m9m_rate_limiter_errors_total",
			Help: "Rate-limit checks that failed (Redis unreachable); the request was let through (fail open).",
		}),
		revocations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "m9m_token_revocation_hits_total",
			Help: "Access tokens refused because they were revoked (logout, session end, password change, user disabled).",
		}),
		depErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_dependency_errors_total",
			Help: "Failed calls to a dependency, by dependency (redis, postgres).",
		}, []string{"dependency"}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_http_unavailable_total",
			Help: "Answers 503 SERVICE_UNAVAILABLE (a dependency needed for the request is down), by route template.",
		}, []string{"route"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "m9m_http_request_duration_seconds",
			Help:    "Request latency by method, route template and status class (2xx, 4xx ...).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		auditDurable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_audit_events_durable_total",
			Help: "Audit events written in the transaction of the change they record (durable before the answer), by action.",
		}, []string{"action"}),
		auditDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_audit_events_dropped_total",
			Help: "Best-effort audit events (failed logins, throttling, refused credentials) lost by the background queue, by reason (queue_full, insert_failed, stopped).",
		}, []string{"reason"}),
	}
	m.registry.MustRegister(
		m.authAttempts, m.rateLimited, m.limiterErrors, m.revocations,
		m.depErrors, m.unavailable, m.latency, m.auditDurable, m.auditDropped,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, dep := range []string{DependencyRedis, DependencyPostgres} {
		m.depErrors.WithLabelValues(dep) // export zeros, so alerts see the series before the first outage
	}
	for _, reason := range []string{AuditDropQueueFull, AuditDropInsertFailed, AuditDropStopped} {
		m.auditDropped.WithLabelValues(reason)
	}
	return m
}

// Registry is where the series live (the metrics listener serves it).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// AuthAttempt counts one authentication attempt.
func (m *Metrics) AuthAttempt(method, outcome string) {
	if m == nil {
		return
	}
	m.authAttempts.WithLabelValues(method, outcome).Inc()
}

// RateLimited counts one 429 of the request rate limit on route (a template).
func (m *Metrics) RateLimited(route string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(routeLabel(route)).Inc()
}

// RateLimitError counts a failed rate-limit check; the limiter lives in
// Redis, so it is a Redis error too.
func (m *Metrics) RateLimitError() {
	if m == nil {
		return
	}
	m.limiterErrors.Inc()
	m.DependencyError(DependencyRedis)
}

// RevocationHit counts a token refused because it was revoked.
func (m *Metrics) RevocationHit() {
	if m == nil {
		return
	}
	m.revocations.Inc()
}

// DependencyError counts a failed call to dependency (DependencyRedis,
// DependencyPostgres). Adapters call it where they translate a driver error
// into domain.ErrUnavailable.
func (m *Metrics) DependencyError(dependency string) {
	if m == nil {
		return
	}
	m.depErrors.WithLabelValues(dependency).Inc()
}

// AuditDropped counts n best-effort audit events the queue lost for reason
// (AuditDropQueueFull, AuditDropInsertFailed, AuditDropStopped).
func (m *Metrics) AuditDropped(reason string, n uint64) {
	if m == nil {
		return
	}
	m.auditDropped.WithLabelValues(reason).Add(float64(n))
}

// ObserveRequest records one answered request. method is normalised,
// because it comes from the client and would otherwise let anyone create
// series at will; route is the router's template, never the raw path.
func (m *Metrics) ObserveRequest(method, route string, status int, seconds float64) {
	if m == nil {
		return
	}
	route = routeLabel(route)
	m.latency.WithLabelValues(methodLabel(method), route, statusClass(status)).Observe(seconds)
	if status == http.StatusServiceUnavailable {
		m.unavailable.WithLabelValues(route).Inc()
	}
}

var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "OTHER"
}

func routeLabel(r string) string {
	if r == "" {
		return "unmatched"
	}
	return r
}

// statusClasses are the status labels, built once (ObserveRequest runs on
// every request).
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return statusClasses[status/100-1]
}
