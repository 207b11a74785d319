package metrics_test

import (
	"sync/atomic"
	"testing"

	"github.com/m9m/auth/adapter/metrics"
)

// gathered returns the value of the series name (with label cause, when
// given) in m's registry.
func gathered(t *testing.T, m *metrics.Metrics, name, cause string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			match := cause == ""
			for _, l := range s.GetLabel() {
				if l.GetName() == "cause" && l.GetValue() == cause {
					match = true
				}
			}
			if !match {
				continue
			}
			if g := s.GetGauge(); g != nil {
				return g.GetValue()
			}
			return s.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series %s{cause=%q}", name, cause)
	return 0
}

func TestFollowerSeries(t *testing.T) {
	m := metrics.New()
	var fresh atomic.Bool
	f := metrics.NewFollower(m, fresh.Load)
	if got := gathered(t, m, "m9m_revocation_feed_fresh", ""); got != 0 {
		t.Fatalf("fresh = %v before the follower is fresh, want 0", got)
	}
	fresh.Store(true)
	if got := gathered(t, m, "m9m_revocation_feed_fresh", ""); got != 1 {
		t.Fatalf("fresh = %v, want 1", got)
	}
	if got := gathered(t, m, "m9m_revocation_feed_loads_total", metrics.LoadAfterGap); got != 0 {
		t.Fatalf("gap loads %v before any, want an exported 0", got)
	}
	f.Loaded(false)
	f.Loaded(true)
	f.Loaded(true)
	if got := gathered(t, m, "m9m_revocation_feed_loads_total", metrics.LoadAfterGap); got != 2 {
		t.Fatalf("gap loads %v, want 2", got)
	}
	if got := gathered(t, m, "m9m_revocation_feed_loads_total", metrics.LoadAtStart); got != 1 {
		t.Fatalf("start loads %v, want 1", got)
	}
	var none *metrics.Follower
	none.Loaded(true) // metrics off: counts nothing, does not panic
	if metrics.NewFollower(nil, fresh.Load) != nil {
		t.Fatal("NewFollower without metrics should be nil")
	}
}
