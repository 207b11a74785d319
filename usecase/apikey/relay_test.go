package apikey_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/apikey"
)

// fakeOutbox is a port.InvalidationOutbox in memory that records how it
// was drained.
type fakeOutbox struct {
	mu      sync.Mutex
	rows    []port.FeedEntry
	drains  int
	olderTh []time.Duration
	limits  []int
}

func (o *fakeOutbox) Drain(_ context.Context, olderThan time.Duration, limit int, publish func([]port.FeedEntry) error) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.drains++
	o.olderTh = append(o.olderTh, olderThan)
	o.limits = append(o.limits, limit)
	n := min(limit, len(o.rows))
	if n == 0 {
		return 0, nil
	}
	if err := publish(append([]port.FeedEntry(nil), o.rows[:n]...)); err != nil {
		return 0, err
	}
	o.rows = o.rows[n:]
	return n, nil
}

func (o *fakeOutbox) left() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.rows)
}

func outboxOf(n int) (*fakeOutbox, []port.FeedEntry) {
	rows := make([]port.FeedEntry, n)
	for i := range rows {
		if i%2 == 0 {
			rows[i].KeyID = domain.NewID()
		} else {
			rows[i].OwnerID = domain.NewID()
		}
	}
	return &fakeOutbox{rows: append([]port.FeedEntry(nil), rows...)}, rows
}

// feed records what the relay published.
type feed struct {
	mu   sync.Mutex
	got  []port.FeedEntry
	fail error
}

func (f *feed) Publish(_ context.Context, entries ...port.FeedEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.got = append(f.got, entries...)
	return nil
}

func (f *feed) published() []port.FeedEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]port.FeedEntry(nil), f.got...)
}

func TestRelayDrainsTheBacklogInBatches(t *testing.T) {
	t.Parallel()
	ob, rows := outboxOf(250)
	fd := &feed{}
	r := apikey.NewRelay(ob, fd.Publish, apikey.RelaySettings{}, nil)
	n, err := r.RunOnce(context.Background())
	if err != nil || n != 250 {
		t.Fatalf("RunOnce = %d, %v; want 250", n, err)
	}
	if !reflect.DeepEqual(fd.published(), rows) {
		t.Fatal("published entries differ from the outbox's, or their order")
	}
	// Defaults: batches of 100 rows at least 2 s old; the third batch is
	// short, so the pass ends there.
	if ob.drains != 3 || !reflect.DeepEqual(ob.limits, []int{100, 100, 100}) || ob.olderTh[0] != 2*time.Second {
		t.Fatalf("drains = %d, limits %v, olderThan %v", ob.drains, ob.limits, ob.olderTh)
	}
	// A batch larger than any store takes is capped.
	capped := apikey.NewRelay(ob, fd.Publish, apikey.RelaySettings{Batch: 1 << 20, OlderThan: 5 * time.Second}, nil)
	if _, err := capped.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ob.limits[len(ob.limits)-1]; got != port.MaxListLimit || ob.olderTh[len(ob.olderTh)-1] != 5*time.Second {
		t.Fatalf("limit %d, olderThan %v; want %d and 5s", got, ob.olderTh[len(ob.olderTh)-1], port.MaxListLimit)
	}
}

func TestRelayKeepsWhatItCouldNotPublish(t *testing.T) {
	t.Parallel()
	ob, rows := outboxOf(5)
	boom := errors.New("feed unreachable")
	fd := &feed{fail: boom}
	r := apikey.NewRelay(ob, fd.Publish, apikey.RelaySettings{Batch: 2}, nil)
	if n, err := r.RunOnce(context.Background()); !errors.Is(err, boom) || n != 0 {
		t.Fatalf("RunOnce = %d, %v; want 0 and the feed's error", n, err)
	}
	if ob.left() != 5 {
		t.Fatalf("%d rows left, want all 5", ob.left())
	}
	fd.mu.Lock()
	fd.fail = nil
	fd.mu.Unlock()
	if n, err := r.RunOnce(context.Background()); err != nil || n != 5 {
		t.Fatalf("RunOnce = %d, %v; want 5", n, err)
	}
	if !reflect.DeepEqual(fd.published(), rows) {
		t.Fatal("published entries differ from the outbox's")
	}
}

func TestRelayLoop(t *testing.T) {
	t.Parallel()
	ob, rows := outboxOf(3)
	fd := &feed{}
	observed := make(chan apikey.RelayOutcome, 16)
	r := apikey.NewRelay(ob, fd.Publish, apikey.RelaySettings{Interval: time.Millisecond}, func(o apikey.RelayOutcome) {
		select {
		case observed <- o:
		default:
		}
	})
	r.Start()
	select {
	case o := <-observed:
		if o.Err != nil || o.Published != 3 {
			t.Fatalf("outcome = %+v, want 3 published", o)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the loop published nothing")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
	if !reflect.DeepEqual(fd.published(), rows) || ob.left() != 0 {
		t.Fatalf("published %d of %d", len(fd.published()), len(rows))
	}
}

// TestRelayStopAbandonsAStuckPass: a publish that hangs on an unreachable
// feed does not hold Stop up; its rows stay.
func TestRelayStopAbandonsAStuckPass(t *testing.T) {
	t.Parallel()
	ob, _ := outboxOf(1)
	entered := make(chan struct{})
	var once sync.Once
	publish := func(ctx context.Context, _ ...port.FeedEntry) error {
		once.Do(func() { close(entered) })
		<-ctx.Done()
		return ctx.Err()
	}
	r := apikey.NewRelay(ob, publish, apikey.RelaySettings{Interval: time.Millisecond, Attempt: time.Hour}, nil)
	r.Start()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatalf("Stop = %v; want the stuck pass abandoned", err)
	}
	if ob.left() != 1 {
		t.Fatal("the row of the abandoned pass is gone")
	}
}
