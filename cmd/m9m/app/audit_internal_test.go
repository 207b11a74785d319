package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
)

// failingAuditStore refuses every insert, as a Postgres that is down would.
type failingAuditStore struct{ port.AuditStore }

func (failingAuditStore) Insert(context.Context, []audit.Event) error {
	return errors.New("postgres is down")
}

// TestDroppedAuditEventsAreCounted: events the writer loses are counted in
// m9m_audit_events_dropped_total by reason, besides the log line.
func TestDroppedAuditEventsAreCounted(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	m := metrics.New()
	lc := fxtest.NewLifecycle(t)
	w := newAuditWriter(lc, failingAuditStore{}, memory.NewClock(time.Now()),
		config.AuditConfig{QueueSize: 2, BatchSize: 2, FlushInterval: time.Hour}, zap.New(core), m)
	for range 5 { // before start: 2 fit in the queue, 3 do not
		w.Record(context.Background(), audit.Event{Action: audit.ActionLogin})
	}
	lc.RequireStart()
	lc.RequireStop() // flushes: the 2 queued fail to insert
	w.Record(context.Background(), audit.Event{Action: audit.ActionLogin})

	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	dropped := func(reason string) float64 {
		for _, f := range families {
			if f.GetName() != "m9m_audit_events_dropped_total" {
				continue
			}
			for _, s := range f.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() == reason {
						return s.GetCounter().GetValue()
					}
				}
			}
		}
		t.Fatalf("no m9m_audit_events_dropped_total{reason=%q}", reason)
		return 0
	}
	if got := dropped(metrics.AuditDropQueueFull); got != 3 {
		t.Errorf("queue_full = %v, want 3", got)
	}
	if got := dropped(metrics.AuditDropInsertFailed); got != 2 {
		t.Errorf("insert_failed = %v, want 2", got)
	}
	if got := dropped(metrics.AuditDropStopped); got != 1 {
		t.Errorf("stopped = %v, want 1", got)
	}
	if n := logs.FilterMessage("audit events dropped").Len(); n != 3 {
		t.Errorf("%d log lines about dropped events, want 3 (one per report)", n)
	}
}
