package apikey

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/port"
)

// LastUsed keeps lastUsedAt current to within one interval without a
// database write per request: the authenticator notes each use in memory
// (Seen), and a background loop writes the latest use of every key seen
// since the last flush in one batched statement per interval. So each key
// costs at most one write per interval per instance, off the request path.
// Instances flush independently; the store only ever moves lastUsedAt
// forward. Memory is bounded by the number of distinct valid keys used in
// one interval (only authenticated keys are noted).
type LastUsed struct {
	store    port.APIKeyAuthStore
	interval time.Duration
	onError  func(error)

	mu      sync.Mutex
	pending map[string]time.Time

	stop chan struct{}
	done chan struct{}
}

var _ UsageRecorder = (*LastUsed)(nil)

// NewLastUsed returns a recorder flushing to store every interval. onError
// (may be nil) hears about failed flushes; their uses are kept and retried
// at the next flush.
func NewLastUsed(store port.APIKeyAuthStore, interval time.Duration, onError func(error)) *LastUsed {
	if interval <= 0 {
		interval = time.Minute
	}
	if onError == nil {
		onError = func(error) {}
	}
	return &LastUsed{store: store, interval: interval, onError: onError, pending: make(map[string]time.Time)}
}

// Seen notes that keyID was used at at. It never blocks on I/O.
func (l *LastUsed) Seen(keyID string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.pending[keyID]; !ok || at.After(cur) {
		l.pending[keyID] = at
	}
}

// Pending returns how many keys wait to be written (for tests and metrics).
func (l *LastUsed) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// Flush writes every pending use now. On failure the uses are put back
// (keeping the later time of any noted since), so none is lost.
func (l *LastUsed) Flush(ctx context.Context) error {
	l.mu.Lock()
	batch := l.pending
	l.pending = make(map[string]time.Time, len(batch))
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := l.store.TouchLastUsed(ctx, batch); err != nil {
		for id, at := range batch {
			l.Seen(id, at)
		}
		return err
	}
	return nil
}

// Start runs the flush loop in the background until Stop.
func (l *LastUsed) Start() {
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go l.loop()
}

func (l *LastUsed) loop() {
	defer close(l.done)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.interval)
			if err := l.Flush(ctx); err != nil {
				l.onError(err)
			}
			cancel()
		}
	}
}

// Stop ends the loop and writes what is still pending, within ctx.
func (l *LastUsed) Stop(ctx context.Context) error {
	if l.stop != nil {
		close(l.stop)
		select {
		case <-l.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.stop = nil
	}
	return l.Flush(ctx)
}
