package metrics_test

import (
	"strings"
	"testing"

	"github.com/m9m/auth/adapter/metrics"
)

func TestRetentionSeries(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	r := metrics.NewRetention(m)
	r.Deleted("sessions", 3)
	r.Deleted("sessions", 2)
	r.Deleted("audit_events", 0)
	r.Pass(metrics.PassDone)
	r.Pass(metrics.PassSkipped)
	r.Pass(metrics.PassSkipped)
	body := scrape(t, m, "/metrics")
	for _, want := range []string{
		`m9m_retention_deleted_total{kind="sessions"} 5`,
		`m9m_retention_deleted_total{kind="audit_events"} 0`,
		`m9m_retention_deleted_total{kind="executions"} 0`,
		`m9m_retention_passes_total{outcome="done"} 1`,
		`m9m_retention_passes_total{outcome="skipped"} 2`,
		`m9m_retention_passes_total{outcome="error"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	off := metrics.NewRetention(nil) // metrics disabled
	off.Deleted("sessions", 1)
	off.Pass(metrics.PassDone)
	if off != nil {
		t.Fatal("NewRetention(nil) is not nil")
	}
}
