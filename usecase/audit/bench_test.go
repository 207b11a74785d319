package audit_test

import (
	"context"
	"testing"

	"github.com/m9m/auth/adapter/memory"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/usecase/audit"
)

// discardStore takes batches and forgets them, so the benchmark measures
// what a request pays for Record, not the store.
type discardStore struct{}

func (discardStore) Insert(context.Context, []auditdomain.Event) error { return nil }

func (discardStore) List(context.Context, auditdomain.Query) (auditdomain.Page, error) {
	return auditdomain.Page{}, nil
}

// BenchmarkRecord is the cost auditing adds to a request.
func BenchmarkRecord(b *testing.B) {
	w := audit.NewWriter(discardStore{}, memory.NewClock(t0), audit.WriterConfig{QueueSize: 4096, BatchSize: 100}, nil)
	w.Start()
	defer func() { _ = w.Stop(context.Background()) }()
	e := auditdomain.Event{
		Action: auditdomain.ActionLogin, Outcome: auditdomain.OutcomeSuccess, ActorID: "0123456789abcdef0123456789abcdef",
		ActorName: "alice", IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Metadata: map[string]string{"requestId": "r-1"},
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Record(context.Background(), e)
		}
	})
	b.StopTimer()
	if w.Dropped() > 0 {
		b.Logf("%d of %d dropped (queue full: the discard store is not the bottleneck, the goroutine is)", w.Dropped(), b.N)
	}
}
