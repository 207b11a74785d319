package metrics

import "github.com/prometheus/client_golang/prometheus"

// Reasons an audit event is dropped, the `reason` label of
// m9m_audit_events_dropped_total.
const (
	AuditDropQueueFull    = "queue_full"
	AuditDropInsertFailed = "insert_failed"
	AuditDropAfterStop    = "after_shutdown"
)

func registerAuditDropped(r *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "m9m_audit_events_dropped_total",
		Help: "Audit events lost, by reason (queue_full, insert_failed, after_shutdown); each loss is logged too.",
	}, []string{"reason"})
	r.MustRegister(c)
	for _, reason := range []string{AuditDropQueueFull, AuditDropInsertFailed, AuditDropAfterStop} {
		c.WithLabelValues(reason) // export zeros, so an alert sees the series before the first loss
	}
	return c
}

// AuditDropped counts n audit events lost for reason.
func (m *Metrics) AuditDropped(reason string, n uint64) {
	if m == nil {
		return
	}
	m.auditDropped.WithLabelValues(reason).Add(float64(n))
}
