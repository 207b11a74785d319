package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/usecase/audit"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

// recordingStore is a port.AuditStore that remembers every batch. When gate
// is set, each Insert signals entered and then waits for gate (or its ctx);
// failures makes the first failures inserts fail.
type recordingStore struct {
	mu       sync.Mutex
	batches  [][]auditdomain.Event
	calls    int
	failures int
	gate     chan struct{}
	entered  chan struct{}
	inserted chan int // receives each stored batch's size, if set
}

func (s *recordingStore) Insert(ctx context.Context, events []auditdomain.Event) error {
	if s.gate != nil {
		s.entered <- struct{}{}
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.calls++
	if s.calls <= s.failures {
		s.mu.Unlock()
		return errors.New("connection refused")
	}
	s.batches = append(s.batches, append([]auditdomain.Event(nil), events...))
	s.mu.Unlock()
	if s.inserted != nil {
		s.inserted <- len(events)
	}
	return nil
}

func (s *recordingStore) List(context.Context, auditdomain.Query) (auditdomain.Page, error) {
	return auditdomain.Page{}, errors.New("not used")
}

func (s *recordingStore) sizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, len(s.batches))
	for i, b := range s.batches {
		out[i] = len(b)
	}
	return out
}

func (s *recordingStore) events() []auditdomain.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []auditdomain.Event
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

// reports collects what the writer reports.
type reports struct {
	mu     sync.Mutex
	counts []uint64
	causes []error
	total  uint64
	seen   chan struct{}
}

func newReports() *reports { return &reports{seen: make(chan struct{}, 1000)} }

func (r *reports) Dropped(count, total uint64, cause error) {
	r.mu.Lock()
	r.counts = append(r.counts, count)
	r.causes = append(r.causes, cause)
	r.total = total
	r.mu.Unlock()
	r.seen <- struct{}{}
}

func (r *reports) sum() (n int, causes []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.counts {
		n += int(c) //nolint:gosec // a test's counts are small
	}
	return n, append([]error(nil), r.causes...)
}

func event(i int) auditdomain.Event {
	return auditdomain.Event{Action: auditdomain.ActionLogin, Outcome: auditdomain.OutcomeSuccess, ActorName: fmt.Sprint("user", i)}
}

// never is a tick channel that never fires: flushes happen only when a
// batch is full or on Stop.
func never() chan time.Time { return make(chan time.Time) }

func stop(t *testing.T, w *audit.Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func waitFor(t *testing.T, what string, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestWriterBatchesInserts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, batch  int
		wantSizes []int
	}{
		{n: 250, batch: 100, wantSizes: []int{100, 100, 50}},
		{n: 200, batch: 100, wantSizes: []int{100, 100}},
		{n: 1, batch: 100, wantSizes: []int{1}},
		{n: 7, batch: 1, wantSizes: []int{1, 1, 1, 1, 1, 1, 1}},
		{n: 0, batch: 10, wantSizes: []int{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d events in batches of %d", tc.n, tc.batch), func(t *testing.T) {
			t.Parallel()
			store := &recordingStore{}
			w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 1000, BatchSize: tc.batch, Tick: never()}, nil)
			w.Start()
			for i := range tc.n {
				w.Record(context.Background(), event(i))
			}
			stop(t, w)
			if got := store.sizes(); fmt.Sprint(got) != fmt.Sprint(tc.wantSizes) {
				t.Fatalf("insert sizes = %v, want %v (⌈%d/%d⌉ inserts)", got, tc.wantSizes, tc.n, tc.batch)
			}
			if w.Dropped() != 0 {
				t.Fatalf("dropped %d", w.Dropped())
			}
		})
	}
}

func TestWriterStopFlushesEverything(t *testing.T) {
	t.Parallel()
	for _, started := range []bool{true, false} {
		t.Run(fmt.Sprintf("started=%v", started), func(t *testing.T) {
			t.Parallel()
			store := memory.NewAuditStore()
			w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 100, BatchSize: 50, Tick: never()}, nil)
			if started {
				w.Start()
			}
			for i := range 5 {
				w.Record(context.Background(), event(i))
			}
			stop(t, w)
			page, err := store.List(context.Background(), auditdomain.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != 5 {
				t.Fatalf("stored %d events after Stop, want 5", len(page.Events))
			}
			stop(t, w) // a second Stop is harmless
		})
	}
}

func TestWriterFlushesOnTick(t *testing.T) {
	t.Parallel()
	store := &recordingStore{inserted: make(chan int, 10)}
	tick := make(chan time.Time)
	w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 100, BatchSize: 50, Tick: tick}, nil)
	w.Start()
	defer stop(t, w)
	for i := range 3 {
		w.Record(context.Background(), event(i))
	}
	// The batch is far from full: only ticks can write it before Stop.
	deadline := time.After(5 * time.Second)
	for got := 0; got < 3; {
		select {
		case tick <- t0:
		case n := <-store.inserted:
			got += n
		case <-deadline:
			t.Fatalf("ticks wrote %d of 3 events", got)
		}
	}
}

func TestWriterFlushIntervalWithRealTicker(t *testing.T) {
	t.Parallel()
	store := &recordingStore{inserted: make(chan int, 10)}
	w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 100, BatchSize: 50, FlushInterval: 2 * time.Millisecond}, nil)
	w.Start()
	defer stop(t, w)
	w.Record(context.Background(), event(1))
	select {
	case n := <-store.inserted:
		if n != 1 {
			t.Fatalf("inserted %d events, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the flush interval never wrote the event")
	}
}

func TestWriterCountsAndReportsFullQueue(t *testing.T) {
	t.Parallel()
	store := &recordingStore{gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	rep := newReports()
	tick := make(chan time.Time)
	w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 4, BatchSize: 1, Tick: tick}, rep)
	w.Start()
	w.Record(context.Background(), event(0))
	waitFor(t, "the first insert", store.entered) // the goroutine now holds event 0, blocked
	for i := 1; i <= 10; i++ {
		w.Record(context.Background(), event(i))
	}
	if got := w.Dropped(); got != 6 {
		t.Fatalf("Dropped() = %d, want 6 (4 queued, 6 over)", got)
	}
	go func() {
		for range store.entered {
		}
	}()
	close(store.gate)
	tick <- t0
	waitFor(t, "the drop report", rep.seen)
	n, causes := rep.sum()
	if n != 6 || !errors.Is(causes[0], audit.ErrQueueFull) {
		t.Fatalf("reported %d dropped (%v), want 6 for a full queue", n, causes)
	}
	stop(t, w)
	if got := len(store.events()); got != 5 {
		t.Fatalf("stored %d events, want the 5 that fit", got)
	}
}

func TestWriterRetriesOnceThenReports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		failures    int
		wantStored  int
		wantDropped uint64
	}{
		{failures: 0, wantStored: 3},
		{failures: 1, wantStored: 3},
		{failures: 2, wantStored: 0, wantDropped: 3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d failures", tc.failures), func(t *testing.T) {
			t.Parallel()
			store := &recordingStore{failures: tc.failures}
			rep := newReports()
			w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 10, BatchSize: 3, RetryDelay: -1, Tick: never()}, rep)
			w.Start()
			for i := range 3 {
				w.Record(context.Background(), event(i))
			}
			stop(t, w)
			if got := len(store.events()); got != tc.wantStored {
				t.Fatalf("stored %d, want %d", got, tc.wantStored)
			}
			if w.Dropped() != tc.wantDropped {
				t.Fatalf("Dropped() = %d, want %d", w.Dropped(), tc.wantDropped)
			}
			n, causes := rep.sum()
			if uint64(n) != tc.wantDropped {
				t.Fatalf("reported %d, want %d", n, tc.wantDropped)
			}
			if n > 0 && (causes[0] == nil || causes[0].Error() != "connection refused") {
				t.Fatalf("cause = %v, want the insert error", causes[0])
			}
		})
	}
}

func TestWriterAfterStopCountsAndReports(t *testing.T) {
	t.Parallel()
	rep := newReports()
	w := audit.NewWriter(memory.NewAuditStore(), memory.NewClock(t0), audit.WriterConfig{Tick: never()}, rep)
	w.Start()
	stop(t, w)
	w.Record(context.Background(), event(1))
	if w.Dropped() != 1 {
		t.Fatalf("Dropped() = %d, want 1", w.Dropped())
	}
	n, causes := rep.sum()
	if n != 1 || !errors.Is(causes[0], audit.ErrStopped) {
		t.Fatalf("reported %d %v, want 1 ErrStopped", n, causes)
	}
}

func TestWriterStopGivesUpAtItsDeadline(t *testing.T) {
	t.Parallel()
	store := &recordingStore{gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	t.Cleanup(func() { close(store.gate) })
	rep := newReports()
	w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 10, BatchSize: 5, Tick: never()}, rep)
	w.Start()
	for i := range 3 {
		w.Record(context.Background(), event(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline", err)
	}
	waitFor(t, "the drop report", rep.seen)
	if n, _ := rep.sum(); n != 3 || w.Dropped() != 3 {
		t.Fatalf("reported %d, Dropped() %d; want 3 and 3", n, w.Dropped())
	}
}

func TestWriterFillsIDAndTimeAndSanitizes(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(t0)
	store := &recordingStore{}
	w := audit.NewWriter(store, clock, audit.WriterConfig{Tick: never()}, nil)
	w.Start()
	meta := map[string]string{"k": "v"}
	given := t0.Add(-time.Hour)
	w.Record(context.Background(), auditdomain.Event{ActorName: "a\x00b", Metadata: meta})
	w.Record(context.Background(), auditdomain.Event{ID: "fixed", Time: given})
	meta["k"] = "changed after Record"
	stop(t, w)
	got := store.events()
	if len(got) != 2 {
		t.Fatalf("stored %d", len(got))
	}
	if len(got[0].ID) != 32 || !got[0].Time.Equal(t0) {
		t.Fatalf("filled event = %+v, want a 32-hex id and the clock's time", got[0])
	}
	if got[0].ActorName != "ab" || got[0].Metadata["k"] != "v" {
		t.Fatalf("event not sanitized or aliases the caller's map: %+v", got[0])
	}
	if got[1].ID != "fixed" || !got[1].Time.Equal(given) {
		t.Fatalf("given id/time replaced: %+v", got[1])
	}
}

// TestRecordNeverWaitsForTheStore is §9's "no synchronous database round
// trip": with the store blocked mid-insert, Record still returns at once,
// however many events arrive.
func TestRecordNeverWaitsForTheStore(t *testing.T) {
	t.Parallel()
	store := &recordingStore{gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	t.Cleanup(func() {
		select {
		case <-store.gate:
		default:
			close(store.gate) // a failed run must not leave the writer hanging
		}
	})
	w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: 100, BatchSize: 1, Tick: never()}, nil)
	w.Start()
	recordAll := func(n int) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range n {
				w.Record(context.Background(), event(i))
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Record blocked while the store was blocked")
		}
	}
	recordAll(1)
	waitFor(t, "the first insert", store.entered) // the writer is now stuck in Insert
	recordAll(1000)
	if got := len(store.events()); got != 0 {
		t.Fatalf("%d events stored while the store was blocked", got)
	}
	go func() {
		for range store.entered {
		}
	}()
	close(store.gate)
	stop(t, w)
	if stored, dropped := len(store.events()), w.Dropped(); uint64(stored)+dropped != 1001 {
		t.Fatalf("stored %d + dropped %d != 1001 recorded", stored, dropped)
	}
}

// TestWriterConcurrentRecordLosesNothingSilently: under -race, events from
// many goroutines are all either stored or counted and reported.
func TestWriterConcurrentRecordLosesNothingSilently(t *testing.T) {
	t.Parallel()
	for _, queue := range []int{10000, 16} {
		t.Run(fmt.Sprintf("queue %d", queue), func(t *testing.T) {
			t.Parallel()
			store := memory.NewAuditStore()
			rep := newReports()
			w := audit.NewWriter(store, memory.NewClock(t0), audit.WriterConfig{QueueSize: queue, BatchSize: 8, FlushInterval: time.Millisecond}, rep)
			w.Start()
			const goroutines, each = 8, 500
			var wg sync.WaitGroup
			var recorded atomic.Int64
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						w.Record(context.Background(), event(g*each+i))
						recorded.Add(1)
					}
				}()
			}
			wg.Wait()
			stop(t, w)
			stored := countAll(t, store)
			reported, _ := rep.sum()
			if stored+int(w.Dropped()) != goroutines*each || reported != int(w.Dropped()) {
				t.Fatalf("stored %d + dropped %d (reported %d) != %d recorded", stored, w.Dropped(), reported, recorded.Load())
			}
			if queue == 10000 && w.Dropped() != 0 {
				t.Fatalf("dropped %d with room in the queue", w.Dropped())
			}
		})
	}
}

func countAll(t *testing.T, s *memory.AuditStore) int {
	t.Helper()
	n, q := 0, auditdomain.Query{Limit: auditdomain.MaxLimit}
	for {
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Events)
		if p.NextCursor == "" {
			return n
		}
		q.Cursor = p.NextCursor
	}
}
