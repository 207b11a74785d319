package apikey

import (
	"context"
	"time"

	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/internal/background"
)

// RelaySettings tune the Relay; zero values take the defaults.
type RelaySettings struct {
	// Interval is how often the outbox is drained (default 1 s).
	Interval time.Duration
	// OlderThan leaves alone the rows younger than this (default 2 s): the
	// call that wrote them is still publishing them itself, and the relay is
	// for the calls that died before they could.
	OlderThan time.Duration
	// Batch is how many rows one drain takes (default 100, at most
	// port.MaxListLimit); a pass drains batches until one comes back short.
	Batch int
	// Attempt bounds one pass (default 10 s).
	Attempt time.Duration
}

// RelayOutcome is what a pass of the Relay reports to its observer (logs,
// metrics): how many invalidations it published, and why it stopped early.
type RelayOutcome struct {
	Published int
	Err       error
}

// Relay publishes what the invalidation outbox holds (port.InvalidationOutbox):
// the invalidations of committed changes whose caller did not live to
// publish them, or failed to. Every instance may run one; the outbox shares
// the rows out. So an invalidation is never lost, only late, by at most
// OlderThan + Interval past its commit (plus the feed's own lag) while the
// feed is reachable; and a call that did answer had published its own.
type Relay struct {
	outbox   port.InvalidationOutbox
	publish  func(context.Context, ...port.FeedEntry) error
	settings RelaySettings
	observe  func(RelayOutcome)

	run background.Loop
}

// NewRelay returns a relay from outbox to publish (the feed's Publish).
// observe (may be nil) hears about every pass that published something or
// failed.
func NewRelay(outbox port.InvalidationOutbox, publish func(context.Context, ...port.FeedEntry) error, settings RelaySettings, observe func(RelayOutcome)) *Relay {
	if settings.Interval <= 0 {
		settings.Interval = time.Second
	}
	if settings.OlderThan <= 0 {
		settings.OlderThan = 2 * time.Second
	}
	if settings.Batch <= 0 {
		settings.Batch = 100
	}
	settings.Batch = min(settings.Batch, port.MaxListLimit)
	if settings.Attempt <= 0 {
		settings.Attempt = 10 * time.Second
	}
	if observe == nil {
		observe = func(RelayOutcome) {}
	}
	return &Relay{outbox: outbox, publish: publish, settings: settings, observe: observe}
}

// RunOnce drains the outbox now, batch after batch until one comes back
// short or fails, and returns how many invalidations it published.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.outbox.Drain(ctx, r.settings.OlderThan, r.settings.Batch, func(entries []port.FeedEntry) error {
			return r.publish(ctx, entries...)
		})
		total += n
		if err != nil || n < r.settings.Batch {
			return total, err
		}
	}
}

// Start runs a pass every Interval in the background until Stop.
func (r *Relay) Start() { r.run.Start(r.loop) }

func (r *Relay) loop(ctx context.Context) {
	t := time.NewTicker(r.settings.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Ends at Stop too: Stop must not wait for a pass stuck on an
		// unreachable store.
		attempt, cancel := context.WithTimeout(ctx, r.settings.Attempt)
		n, err := r.RunOnce(attempt)
		cancel()
		if n > 0 || err != nil {
			r.observe(RelayOutcome{Published: n, Err: err})
		}
	}
}

// Stop ends the loop, abandoning a pass in progress (its rows stay in the
// outbox for the next relay), within ctx.
func (r *Relay) Stop(ctx context.Context) error { return r.run.Stop(ctx) }
