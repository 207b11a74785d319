package revocation

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/internal/background"
)

// LocalSet is the in-process revocation set the Follower keeps (the
// embedded mode's in-process denylist): every denial applied to it, and a
// Check that is a map lookup.
type LocalSet interface {
	port.TokenDenylist
	// Rebuild loads every revocation record holds in force.
	Rebuild(ctx context.Context, record port.RevocationRecord) error
}

// FollowSettings tune the Follower; zero values take the defaults.
type FollowSettings struct {
	// Lease is L: how long after a feed read was sent the set is trusted
	// (default 250 ms). Revoking calls wait for it (commit-wait).
	Lease time.Duration
	// Block is how long one feed read waits for new entries (default L/4,
	// so the next read is sent, and answered, well within the lease).
	Block time.Duration
	// Retry is the pause after a failed read or load (default 100 ms).
	Retry time.Duration
	// Replay is how far back a load replays the feed (default 30 s): a
	// refresh claim reaches the feed a moment before the durable record.
	Replay time.Duration
}

func (s FollowSettings) withDefaults() FollowSettings {
	if s.Lease <= 0 {
		s.Lease = 250 * time.Millisecond
	}
	if s.Block <= 0 {
		s.Block = s.Lease / 4
	}
	if s.Retry <= 0 {
		s.Retry = 100 * time.Millisecond
	}
	if s.Replay <= 0 {
		s.Replay = 30 * time.Second
	}
	return s
}

// FollowEvent is what the Follower reports to its observer (logs, metrics).
type FollowEvent struct {
	// Loaded: the set was (re)loaded from the durable record; Gap says the
	// load was caused by a gap in the feed or a new epoch, not the start.
	Loaded bool
	Gap    bool
	Took   time.Duration
	// Entries applied by one read.
	Entries int
	Err     error
}

// Follower keeps an in-process copy of every revocation in force and of the
// API-key invalidations (contract §15): it loads the durable record at
// start, then follows the feed, applying each entry to its set and to its
// subscribers (the API-key cache). Check answers from the set, with no round
// trip, while the Follower can prove it is caught up: its last completed
// read of the feed was sent less than the lease L ago (a monotonic clock).
// Otherwise Check says so and the caller asks the shared store, as before.
// A gap in the feed (trimmed past the position, or a new epoch: the cache
// lost its memory) makes it reload from the record; it is not fresh until
// it has.
type Follower struct {
	feed     port.RevocationFeed
	record   port.RevocationRecord
	newSet   func() LocalSet
	settings FollowSettings
	observe  func(FollowEvent)

	set   atomic.Pointer[LocalSet]
	epoch time.Time    // origin of freshUntil, read with time.Since (monotonic)
	fresh atomic.Int64 // freshUntil, nanoseconds since epoch; 0: not fresh

	mu     sync.Mutex
	apply  []func(port.FeedEntry)
	resets []func()
	run    background.Loop
	loaded chan struct{} // closed after the first load
	once   sync.Once
}

// NewFollower returns a follower of feed over record; newSet makes an empty
// set. observe (may be nil) hears of every load, read and failure.
func NewFollower(feed port.RevocationFeed, record port.RevocationRecord, newSet func() LocalSet, settings FollowSettings, observe func(FollowEvent)) *Follower {
	if observe == nil {
		observe = func(FollowEvent) {}
	}
	return &Follower{
		feed: feed, record: record, newSet: newSet, settings: settings.withDefaults(), observe: observe,
		epoch: time.Now(), loaded: make(chan struct{}),
	}
}

// Lease is L.
func (f *Follower) Lease() time.Duration { return f.settings.Lease }

// Subscribe makes apply hear every entry the Follower applies, and
// reset every reload (entries may have been missed: forget everything). Call it
// before Start.
func (f *Follower) Subscribe(apply func(port.FeedEntry), reset func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if apply != nil {
		f.apply = append(f.apply, apply)
	}
	if reset != nil {
		f.resets = append(f.resets, reset)
	}
}

// Fresh reports whether the set is provably caught up now.
func (f *Follower) Fresh() bool {
	return int64(time.Since(f.epoch)) < f.fresh.Load()
}

// Check judges c from the set when it is fresh: ok is true and err is the
// answer TokenDenylist.Check would give. When it is not fresh, ok is false
// and the caller must ask the shared store.
func (f *Follower) Check(ctx context.Context, c session.Claims) (err error, ok bool) { //nolint:revive,staticcheck // the error is the answer, ok says whether there is one
	if !f.Fresh() {
		return nil, false
	}
	s := f.set.Load()
	if s == nil {
		return nil, false
	}
	return (*s).Check(ctx, c), true
}

// WaitLoaded blocks until the first load finished or ctx ends.
func (f *Follower) WaitLoaded(ctx context.Context) error {
	select {
	case <-f.loaded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start runs the follow loop in the background until Stop.
func (f *Follower) Start() { f.run.Start(f.loop) }

// Stop ends the loop within ctx.
func (f *Follower) Stop(ctx context.Context) error { return f.run.Stop(ctx) }

// readSlack is how much longer than Block a feed read may take.
const readSlack = 2 * time.Second

func (f *Follower) loop(ctx context.Context) {
	var pos port.FeedPosition
	reload, gap := true, false
	for ctx.Err() == nil {
		if reload {
			f.fresh.Store(0)
			p, err := f.load(ctx, gap)
			if err != nil {
				f.observe(FollowEvent{Err: err})
				f.pause(ctx)
				continue
			}
			pos, reload = p, false
		}
		sent := time.Since(f.epoch)
		// A read that does not answer (a partition) is given up after a
		// while, so the loop reconnects soon after the link heals.
		rctx, cancel := context.WithTimeout(ctx, f.settings.Block+readSlack)
		entries, next, err := f.feed.Follow(rctx, pos, f.settings.Block)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, port.ErrFeedGap) || errors.Is(err, port.ErrDenylistCold) {
				f.fresh.Store(0)
				reload, gap = true, true
			}
			f.observe(FollowEvent{Err: err})
			f.pause(ctx)
			continue
		}
		f.applyAll(entries)
		pos = next
		// Everything appended before this read was sent is applied: trust
		// the set until L after that moment.
		f.fresh.Store(int64(sent + f.settings.Lease))
		if len(entries) > 0 {
			f.observe(FollowEvent{Entries: len(entries)})
		}
	}
}

// load builds a new set: the feed's head first, then the record, then the
// subscribers' caches cleared; it returns where to follow from (the replay
// before the head). A revocation is in the record before it is in the feed
// (refresh claims aside: see Replay), so whatever the feed got before the
// head is in the record read after it, and the rest comes by following.
func (f *Follower) load(ctx context.Context, gap bool) (port.FeedPosition, error) {
	start := time.Now()
	pos, err := f.feed.Head(ctx, f.settings.Replay)
	if err != nil {
		return pos, err
	}
	s := f.newSet()
	if err := s.Rebuild(ctx, f.record); err != nil {
		return pos, err
	}
	f.mu.Lock()
	resets := f.resets
	f.mu.Unlock()
	for _, fn := range resets {
		fn()
	}
	f.set.Store(&s)
	f.once.Do(func() { close(f.loaded) })
	f.observe(FollowEvent{Loaded: true, Gap: gap, Took: time.Since(start)})
	return pos, nil
}

// applyAll applies entries to the set and the subscribers.
func (f *Follower) applyAll(entries []port.FeedEntry) {
	if len(entries) == 0 {
		return
	}
	s := f.set.Load()
	f.mu.Lock()
	apply := f.apply
	f.mu.Unlock()
	ctx := context.Background()
	for _, e := range entries {
		if r := e.Revocation; r.Kind.Valid() && s != nil {
			// An in-process set fails only on what it was given: an entry
			// with an empty ID, never written by the denylist.
			_ = applyRevocation(ctx, *s, r)
		}
		for _, fn := range apply {
			fn(e)
		}
	}
}

// applyRevocation enforces r in set.
func applyRevocation(ctx context.Context, set port.TokenDenylist, r session.Revocation) error {
	switch r.Kind {
	case session.RevokeToken:
		return set.DenyToken(ctx, r.ID, r.Until)
	case session.RevokeSession:
		return set.DenySession(ctx, r.ID, r.Until)
	case session.RevokeUser:
		return set.DenyUserBefore(ctx, r.ID, r.NotBefore, r.Until)
	}
	return nil
}

func (f *Follower) pause(ctx context.Context) {
	t := time.NewTimer(f.settings.Retry)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
