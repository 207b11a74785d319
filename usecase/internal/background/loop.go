// Package background runs the services' long-lived loops (the revocation
// rebuilder's watch, the follower of the revocation feed, the outbox relay):
// one goroutine each, with a context that ends when the loop is stopped.
package background

import "context"

// Loop is one background goroutine. The zero Loop is ready to Start.
type Loop struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs run in the background. Its ctx ends at Stop: a run that waits
// on a store (an attempt derived from ctx) is abandoned, not waited for.
func (l *Loop) Start(run func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.cancel, l.done = cancel, done
	go func() {
		defer close(done)
		run(ctx)
	}()
}

// Stop ends the loop and waits for run to return, within ctx. Stopping a
// loop that is not running does nothing.
func (l *Loop) Stop(ctx context.Context) error {
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	select {
	case <-l.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	l.cancel = nil
	return nil
}
