package metrics

import "github.com/prometheus/client_golang/prometheus"

// Follower is the series of the revocation follower (issue 14): whether
// this instance judges credentials in process right now, and how often it
// loaded its copy from the durable record.
type Follower struct {
	loads *prometheus.CounterVec
}

// Load causes, the `cause` label of m9m_revocation_feed_loads_total.
const (
	LoadAtStart  = "start"
	LoadAfterGap = "gap"
)

// NewFollower registers the follower's series in m's registry, reading
// freshness from fresh at each scrape; it returns nil when m is nil.
func NewFollower(m *Metrics, fresh func() bool) *Follower {
	if m == nil {
		return nil
	}
	f := &Follower{loads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "m9m_revocation_feed_loads_total",
		Help: "Loads of this instance's in-process revocations from the durable record, by cause (start, gap: the feed was trimmed past its position or Redis lost its memory).",
	}, []string{"cause"})}
	m.registry.MustRegister(f.loads, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "m9m_revocation_feed_fresh",
		Help: "1 while this instance follows the revocation feed within its lease and judges tokens and API keys in process, 0 while every check goes to Redis (or Postgres).",
	}, func() float64 {
		if fresh() {
			return 1
		}
		return 0
	}))
	for _, c := range []string{LoadAtStart, LoadAfterGap} {
		f.loads.WithLabelValues(c)
	}
	return f
}

// Loaded counts one load; a nil Follower counts nothing.
func (f *Follower) Loaded(afterGap bool) {
	if f == nil {
		return
	}
	cause := LoadAtStart
	if afterGap {
		cause = LoadAfterGap
	}
	f.loads.WithLabelValues(cause).Inc()
}
