package memory

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Feed is an in-process port.RevocationFeed, for tests of what follows a
// feed (the Redis adapter is the real one): entries get increasing numeric
// IDs; Trim and Lose stand for Redis trimming the stream and losing its
// memory.
type Feed struct {
	clock port.Clock

	mu      sync.Mutex
	entries []fedEntry
	next    int64 // ID of the next entry
	trimmed int64 // highest ID deleted, 0 when none
	epoch   int
	wake    chan struct{} // closed and replaced on every append
}

type fedEntry struct {
	id int64
	at time.Time
	e  port.FeedEntry
}

var _ port.RevocationFeed = (*Feed)(nil)

// NewFeed returns an empty feed in its first epoch.
func NewFeed(clock port.Clock) *Feed {
	return &Feed{clock: clock, next: 1, epoch: 1, wake: make(chan struct{})}
}

func (f *Feed) epochName() string { return "epoch-" + strconv.Itoa(f.epoch) }

// Denylist returns a TokenDenylist whose writes go to set and append their
// revocation to the feed, as the Redis denylist's scripts do.
func (f *Feed) Denylist(set *Denylist) port.TokenDenylist {
	return &feedDenylist{Denylist: set, feed: f}
}

type feedDenylist struct {
	*Denylist
	feed *Feed
}

func (d *feedDenylist) DenyToken(ctx context.Context, jti string, until time.Time) error {
	if err := d.Denylist.DenyToken(ctx, jti, until); err != nil {
		return err
	}
	d.feed.append(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until}})
	return nil
}

func (d *feedDenylist) DenySession(ctx context.Context, sid string, until time.Time) error {
	if err := d.Denylist.DenySession(ctx, sid, until); err != nil {
		return err
	}
	d.feed.append(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeSession, ID: sid, Until: until}})
	return nil
}

func (d *feedDenylist) DenyUserBefore(ctx context.Context, userID string, nb, until time.Time) error {
	if err := d.Denylist.DenyUserBefore(ctx, userID, nb, until); err != nil {
		return err
	}
	d.feed.append(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeUser, ID: userID, NotBefore: nb, Until: until}})
	return nil
}

func (d *feedDenylist) ClaimRefresh(ctx context.Context, jti, successor string, grace time.Duration, until time.Time) (string, error) {
	winner, err := d.Denylist.ClaimRefresh(ctx, jti, successor, grace, until)
	if err == nil && winner == successor {
		d.feed.append(port.FeedEntry{Revocation: session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until}})
	}
	return winner, err
}

func (f *Feed) append(es ...port.FeedEntry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	for _, e := range es {
		f.entries = append(f.entries, fedEntry{id: f.next, at: now, e: e})
		f.next++
	}
	close(f.wake)
	f.wake = make(chan struct{})
}

// Trim deletes every entry appended so far.
func (f *Feed) Trim() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.entries) > 0 {
		f.trimmed = f.entries[len(f.entries)-1].id
	}
	f.entries = nil
}

// Lose forgets every entry and starts a new epoch, as a Redis that lost
// its memory and was rebuilt.
func (f *Feed) Lose() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries, f.trimmed = nil, 0
	f.epoch++
	close(f.wake)
	f.wake = make(chan struct{})
}

// Head returns the epoch and the position replay before the newest entry.
func (f *Feed) Head(ctx context.Context, replay time.Duration) (port.FeedPosition, error) {
	if err := ctx.Err(); err != nil {
		return port.FeedPosition{}, domain.Unavailable("feed", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	last := f.next - 1
	if replay > 0 && len(f.entries) > 0 {
		from := f.entries[len(f.entries)-1].at.Add(-replay)
		for _, e := range f.entries {
			if !e.at.Before(from) {
				last = e.id - 1
				break
			}
		}
	}
	return port.FeedPosition{Epoch: f.epochName(), ID: strconv.FormatInt(last, 10)}, nil
}

// Follow returns the entries after from, waiting up to block for one.
func (f *Feed) Follow(ctx context.Context, from port.FeedPosition, block time.Duration) ([]port.FeedEntry, port.FeedPosition, error) {
	after, err := strconv.ParseInt(from.ID, 10, 64)
	if err != nil || from.Epoch == "" {
		return nil, from, domain.Internal(errors.New("feed: bad position"))
	}
	timer := time.NewTimer(max(block, time.Millisecond))
	defer timer.Stop()
	for {
		f.mu.Lock()
		if from.Epoch != f.epochName() || after < f.trimmed {
			f.mu.Unlock()
			return nil, from, domain.Unavailable("feed", port.ErrFeedGap)
		}
		var out []port.FeedEntry
		pos := from
		for _, e := range f.entries {
			if e.id > after {
				out = append(out, e.e)
				pos.ID = strconv.FormatInt(e.id, 10)
			}
		}
		wake := f.wake
		f.mu.Unlock()
		if len(out) > 0 {
			return out, pos, nil
		}
		select {
		case <-wake:
		case <-timer.C:
			return nil, from, nil
		case <-ctx.Done():
			return nil, from, domain.Unavailable("feed", ctx.Err())
		}
	}
}

// Publish appends key and owner entries.
func (f *Feed) Publish(ctx context.Context, entries ...port.FeedEntry) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("feed", err)
	}
	for _, e := range entries {
		if e.KeyID == "" && e.OwnerID == "" {
			return domain.Internal(errors.New("feed: publish takes key or owner entries"))
		}
	}
	f.append(entries...)
	return nil
}
