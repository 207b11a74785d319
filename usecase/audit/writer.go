// Package audit writes and reads the security audit trail (contract §9).
// The Writer takes events off the request path: Record only queues, and one
// background goroutine writes batches, so auditing never adds a database
// round trip to a request. The list use case serves admins' queries.
package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m9m/auth/domain"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
)

// Causes passed to Reporter.Dropped besides insert errors.
var (
	// ErrQueueFull: events arrived faster than the store took them.
	ErrQueueFull = errors.New("audit queue full")
	// ErrStopped: events were recorded after the writer stopped.
	ErrStopped = errors.New("audit writer stopped")
)

// Reporter hears about events the writer could not store. The wiring logs
// them; this package cannot (it does not import a logger). Dropped is called
// from the writer's goroutine, or from Record only after Stop; queue-full
// drops are summed and reported once per flush, so a flood of events cannot
// become a flood of log lines.
type Reporter interface {
	Dropped(count, total uint64, cause error)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(count, total uint64, cause error)

// Dropped calls f.
func (f ReporterFunc) Dropped(count, total uint64, cause error) { f(count, total, cause) }

// WriterConfig sizes the writer; it mirrors config.AuditConfig, which this
// package may not import.
type WriterConfig struct {
	// QueueSize is how many events may wait in memory (default 4096).
	QueueSize int
	// BatchSize is how many events one insert writes (default 100, at most QueueSize).
	BatchSize int
	// FlushInterval is the longest an event waits before being written (default 1s).
	FlushInterval time.Duration
	// InsertTimeout bounds one insert (default 10s).
	InsertTimeout time.Duration
	// RetryDelay is the pause before the one retry of a failed insert
	// (0: the default 200ms; negative: no pause).
	RetryDelay time.Duration
	// Tick, when set, replaces the FlushInterval ticker: tests flush by
	// sending on it instead of waiting.
	Tick <-chan time.Time
}

func (c WriterConfig) withDefaults() WriterConfig {
	if c.QueueSize < 1 {
		c.QueueSize = 4096
	}
	if c.BatchSize < 1 {
		c.BatchSize = 100
	}
	c.BatchSize = min(c.BatchSize, c.QueueSize)
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.InsertTimeout <= 0 {
		c.InsertTimeout = 10 * time.Second
	}
	if c.RetryDelay < 0 {
		c.RetryDelay = 0
	} else if c.RetryDelay == 0 {
		c.RetryDelay = 200 * time.Millisecond
	}
	return c
}

// Writer is the port.AuditLog of the service: a bounded queue in front of a
// port.AuditStore, drained by one goroutine in batches. Call Start once, and
// Stop at shutdown to write what is still queued.
type Writer struct {
	store port.AuditStore
	clock port.Clock
	rep   Reporter
	cfg   WriterConfig
	queue chan auditdomain.Event

	dropped  atomic.Uint64 // every event lost, for Dropped()
	fullSeen atomic.Uint64 // queue-full drops not yet reported

	mu      sync.RWMutex // guards stopped against Record's send
	stopped bool
	stopCtx context.Context

	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	done      chan struct{}
}

var _ port.AuditLog = (*Writer)(nil)

// NewWriter returns a writer over store; rep hears about lost events (nil
// reports nowhere, but they are still counted).
func NewWriter(store port.AuditStore, clock port.Clock, cfg WriterConfig, rep Reporter) *Writer {
	cfg = cfg.withDefaults()
	if rep == nil {
		rep = ReporterFunc(func(uint64, uint64, error) {})
	}
	return &Writer{
		store: store,
		clock: clock,
		rep:   rep,
		cfg:   cfg,
		queue: make(chan auditdomain.Event, cfg.QueueSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// Record queues e without waiting: it fills in ID and Time when empty,
// sanitizes e (so it can neither sink a batch nor alias the caller's map),
// and counts it as dropped when the queue is full or the writer stopped.
func (w *Writer) Record(_ context.Context, e auditdomain.Event) {
	e = e.Sanitized()
	if e.ID == "" {
		e.ID = domain.NewID()
	}
	if e.Time.IsZero() {
		e.Time = w.clock.Now()
	}
	w.mu.RLock()
	if w.stopped {
		w.mu.RUnlock()
		w.rep.Dropped(1, w.dropped.Add(1), ErrStopped)
		return
	}
	select {
	case w.queue <- e:
	default:
		w.dropped.Add(1)
		w.fullSeen.Add(1)
	}
	w.mu.RUnlock()
}

// Dropped returns how many events were lost since the writer was made.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Start launches the background writer. It does not block; calling it again
// does nothing.
func (w *Writer) Start() {
	w.startOnce.Do(func() { go w.run() })
}

// Stop refuses new events, writes everything queued, and returns when done
// or when ctx ends (inserts still running are then cancelled, and their
// events counted and reported as dropped). It may be called without Start.
func (w *Writer) Stop(ctx context.Context) error {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.stopped = true
		w.stopCtx = ctx
		w.mu.Unlock()
		close(w.stop)
		w.Start()
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("audit writer: flush on stop: %w", ctx.Err())
	}
}

func (w *Writer) run() {
	defer close(w.done)
	tick := w.cfg.Tick
	if tick == nil {
		t := time.NewTicker(w.cfg.FlushInterval)
		defer t.Stop()
		tick = t.C
	}
	base := context.Background()
	batch := make([]auditdomain.Event, 0, w.cfg.BatchSize)
	for {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
			if len(batch) == w.cfg.BatchSize {
				batch = w.flush(base, batch)
			}
		case <-tick:
			batch = w.flush(base, batch)
			w.reportFull()
		case <-w.stop:
			w.drain(batch)
			return
		}
	}
}

// drain writes the partial batch and everything still queued; Record can no
// longer add to the queue once stop is closed.
func (w *Writer) drain(batch []auditdomain.Event) {
	w.mu.RLock()
	ctx := w.stopCtx
	w.mu.RUnlock()
	for {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
			if len(batch) == w.cfg.BatchSize {
				batch = w.flush(ctx, batch)
			}
		default:
			w.flush(ctx, batch)
			w.reportFull()
			return
		}
	}
}

// flush inserts batch, retrying once; events that still fail are counted
// and reported. It returns batch emptied for reuse.
func (w *Writer) flush(ctx context.Context, batch []auditdomain.Event) []auditdomain.Event {
	if len(batch) == 0 {
		return batch
	}
	err := w.insert(ctx, batch)
	if err != nil && ctx.Err() == nil {
		w.pause(ctx)
		err = w.insert(ctx, batch)
	}
	if err != nil {
		n := uint64(len(batch))
		w.rep.Dropped(n, w.dropped.Add(n), err)
	}
	clear(batch) // let the events' strings be collected
	return batch[:0]
}

func (w *Writer) insert(ctx context.Context, batch []auditdomain.Event) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.InsertTimeout)
	defer cancel()
	return w.store.Insert(ctx, batch)
}

func (w *Writer) pause(ctx context.Context) {
	t := time.NewTimer(w.cfg.RetryDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (w *Writer) reportFull() {
	if n := w.fullSeen.Swap(0); n > 0 {
		w.rep.Dropped(n, w.dropped.Load(), ErrQueueFull)
	}
}
