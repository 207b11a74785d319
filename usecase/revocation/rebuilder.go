package revocation

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/internal/background"
)

// Settings tune the Rebuilder; zero values take the defaults.
type Settings struct {
	// Watch is how often the cache's epoch is looked at when no check has
	// found it cold (default 1 s): a loss is noticed within it even when no
	// request arrives.
	Watch time.Duration
	// Attempt bounds one rebuild, waiting for another instance's included
	// (default 2 min).
	Attempt time.Duration
	// Purge is how often revocations no longer in force are deleted from the
	// record (default 1 h).
	Purge time.Duration
}

// Outcome is what the Rebuilder reports to its observer (logs).
type Outcome struct {
	// Rebuilt is true when a rebuild ran (here or on another instance we
	// waited for) and the cache is complete again.
	Rebuilt bool
	Took    time.Duration
	// Purged is how many revocations a purge deleted.
	Purged int64
	Err    error
}

// Rebuilder refills the denylist cache from the record when it is cold: at
// start (EnsureReady), as soon as a check notices (Notice), and when its
// watch finds it cold; and makes it cold first when a write to it failed
// after the record had taken it (Behind). Within a process one rebuild runs at a time; across
// instances the cache's own lock lets one do the work while the others wait.
type Rebuilder struct {
	cache    port.RevocationCache
	record   port.RevocationRecord
	clock    port.Clock
	settings Settings
	observe  func(Outcome)

	behind atomic.Bool // a cache write failed after its record write
	kick   chan struct{}
	run    background.Loop
}

// NewRebuilder returns a rebuilder of cache from record. observe (may be
// nil) hears about every rebuild and purge, and every failure.
func NewRebuilder(cache port.RevocationCache, record port.RevocationRecord, clock port.Clock, settings Settings, observe func(Outcome)) *Rebuilder {
	if settings.Watch <= 0 {
		settings.Watch = time.Second
	}
	if settings.Attempt <= 0 {
		settings.Attempt = 2 * time.Minute
	}
	if settings.Purge <= 0 {
		settings.Purge = time.Hour
	}
	if observe == nil {
		observe = func(Outcome) {}
	}
	return &Rebuilder{
		cache: cache, record: record, clock: clock, settings: settings, observe: observe,
		kick: make(chan struct{}, 1),
	}
}

// Notice looks at the answer of a cache read and, when it says the cache is
// cold, wakes the rebuild loop. It never blocks; a nil Rebuilder ignores it.
func (r *Rebuilder) Notice(err error) {
	if r == nil || !errors.Is(err, port.ErrDenylistCold) {
		return
	}
	select {
	case r.kick <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Behind says a revocation reached the record but not the cache: the loop
// invalidates the cache as soon as it can reach it, then rebuilds it. It
// never blocks; a nil Rebuilder ignores it.
func (r *Rebuilder) Behind() {
	if r == nil {
		return
	}
	r.behind.Store(true)
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// EnsureReady rebuilds the cache now if it is cold, within ctx, and returns
// nil once it is complete.
func (r *Rebuilder) EnsureReady(ctx context.Context) error {
	err := r.cache.Ready(ctx)
	if !errors.Is(err, port.ErrDenylistCold) {
		return err
	}
	start := time.Now()
	err = r.cache.Rebuild(ctx, r.record)
	r.observe(Outcome{Rebuilt: err == nil, Took: time.Since(start), Err: err})
	return err
}

// Start runs the watch loop in the background until Stop.
func (r *Rebuilder) Start() { r.run.Start(r.loop) }

func (r *Rebuilder) loop(ctx context.Context) {
	watch := time.NewTicker(r.settings.Watch)
	defer watch.Stop()
	purge := time.NewTicker(r.settings.Purge)
	defer purge.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-purge.C:
			r.purge()
			continue
		case <-r.kick:
		case <-watch.C:
		}
		// Ends at Stop too: Stop must not wait for a rebuild that waits for
		// another instance.
		attempt, cancel := context.WithTimeout(ctx, r.settings.Attempt)
		err := r.invalidateIfBehind(attempt)
		if err == nil {
			err = r.EnsureReady(attempt)
		}
		cancel()
		if err != nil {
			// A failed rebuild was observed (an unreachable Redis is not: every
			// check answers 503 for it already). Wait a watch before the next
			// attempt, however many checks ask for one meanwhile: a Postgres
			// that is down must not be retried (and logged) at the request rate.
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.settings.Watch):
			}
		}
	}
}

// invalidateIfBehind drops the cache's epoch when a write to it failed.
func (r *Rebuilder) invalidateIfBehind(ctx context.Context) error {
	if !r.behind.Load() {
		return nil
	}
	if err := r.cache.Invalidate(ctx); err != nil {
		return err
	}
	r.behind.Store(false)
	return nil
}

// purge deletes the revocations no longer in force. Every instance runs it;
// the deletes are idempotent.
func (r *Rebuilder) purge() {
	ctx, cancel := context.WithTimeout(context.Background(), r.settings.Attempt)
	defer cancel()
	n, err := r.record.Purge(ctx, r.clock.Now())
	r.observe(Outcome{Purged: n, Err: err})
}

// Stop ends the loop, abandoning a rebuild in progress (its lock expires or
// is released), within ctx.
func (r *Rebuilder) Stop(ctx context.Context) error { return r.run.Stop(ctx) }
