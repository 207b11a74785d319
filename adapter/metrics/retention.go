package metrics

import "github.com/prometheus/client_golang/prometheus"

// Retention holds the janitor's series (contract §14). A nil *Retention
// (metrics disabled) records nothing.
type Retention struct {
	deleted *prometheus.CounterVec
	passes  *prometheus.CounterVec
}

// Janitor pass outcomes, the `outcome` label of m9m_retention_passes_total.
const (
	PassDone    = "done"
	PassSkipped = "skipped"
	PassFailed  = "error"
)

// RetentionKinds are the `kind` label values of m9m_retention_deleted_total.
var RetentionKinds = []string{"sessions", "api_keys", "audit_events", "executions"}

// NewRetention registers the janitor's series in m's registry; it returns
// nil when m is nil.
func NewRetention(m *Metrics) *Retention {
	if m == nil {
		return nil
	}
	r := &Retention{
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_retention_deleted_total",
			Help: "Rows deleted by the retention janitor and m9m purge, by kind (sessions, api_keys, audit_events, executions).",
		}, []string{"kind"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "m9m_retention_passes_total",
			Help: "Retention janitor passes on this instance, by outcome (done, skipped: another instance held the lock, error).",
		}, []string{"outcome"}),
	}
	m.registry.MustRegister(r.deleted, r.passes)
	for _, k := range RetentionKinds {
		r.deleted.WithLabelValues(k) // export zeros, so dashboards see the series before the first deletion
	}
	for _, o := range []string{PassDone, PassSkipped, PassFailed} {
		r.passes.WithLabelValues(o)
	}
	return r
}

// Deleted counts n rows of kind deleted.
func (r *Retention) Deleted(kind string, n int) {
	if r == nil || n <= 0 {
		return
	}
	r.deleted.WithLabelValues(kind).Add(float64(n))
}

// Pass counts one janitor pass with outcome (PassDone, PassSkipped, PassFailed).
func (r *Retention) Pass(outcome string) {
	if r == nil {
		return
	}
	r.passes.WithLabelValues(outcome).Inc()
}
