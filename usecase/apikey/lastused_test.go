package apikey_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/apikey"
)

func TestLastUsedBatchesOneWritePerKeyPerFlush(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	owner := f.user(t, user.RoleViewer)
	a := f.create(t, owner, apikey.CreateInput{})
	b := f.create(t, owner, apikey.CreateInput{})
	for i := range 50 {
		f.clock.Advance(time.Second)
		f.mustAuth(t, a.Token.Secret())
		if i%2 == 0 {
			f.mustAuth(t, b.Token.Secret())
		}
	}
	if f.spy.touches.Load() != 0 {
		t.Fatal("requests wrote lastUsedAt")
	}
	if err := f.usage.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.spy.touches.Load() != 1 || f.usage.Pending() != 0 {
		t.Fatalf("touches = %d pending = %d, want one batched write", f.spy.touches.Load(), f.usage.Pending())
	}
	ka, _ := f.keys.Get(context.Background(), a.Key.ID)
	kb, _ := f.keys.Get(context.Background(), b.Key.ID)
	if !ka.LastUsedAt.Equal(t0.Add(50*time.Second)) || !kb.LastUsedAt.Equal(t0.Add(49*time.Second)) {
		t.Fatalf("lastUsedAt a=%v b=%v", ka.LastUsedAt, kb.LastUsedAt)
	}
	// Nothing pending: no write.
	if err := f.usage.Flush(context.Background()); err != nil || f.spy.touches.Load() != 1 {
		t.Fatalf("empty flush wrote: %v %d", err, f.spy.touches.Load())
	}
}

func TestLastUsedKeepsUsesWhenAFlushFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	k := f.create(t, f.user(t, user.RoleViewer), apikey.CreateInput{})
	f.mustAuth(t, k.Token.Secret())
	f.spy.fail = domain.Unavailable("postgres", errors.New("down"))
	if err := f.usage.Flush(context.Background()); err == nil {
		t.Fatal("flush against a failing store succeeded")
	}
	if f.usage.Pending() != 1 {
		t.Fatalf("pending = %d after a failed flush, want 1", f.usage.Pending())
	}
	f.spy.fail = nil
	// A later use while the write was failing must win over the kept one.
	f.usage.Seen(k.Key.ID, t0.Add(time.Hour))
	f.usage.Seen(k.Key.ID, t0.Add(time.Minute))
	if err := f.usage.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := f.keys.Get(context.Background(), k.Key.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("lastUsedAt = %v", got.LastUsedAt)
	}
}

func TestLastUsedFlushesInTheBackgroundAndOnStop(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	k := f.create(t, f.user(t, user.RoleViewer), apikey.CreateInput{})
	var mu sync.Mutex
	var errs []error
	r := apikey.NewLastUsed(f.keys, 5*time.Millisecond, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	r.Start()
	r.Seen(k.Key.ID, t0.Add(time.Minute))
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := f.keys.Get(context.Background(), k.Key.ID)
		if got.LastUsedAt != nil && got.LastUsedAt.Equal(t0.Add(time.Minute)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background loop never flushed")
		}
		time.Sleep(2 * time.Millisecond)
	}
	// What is seen just before Stop is written by Stop.
	r.Seen(k.Key.ID, t0.Add(2*time.Minute))
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := f.keys.Get(context.Background(), k.Key.ID)
	if !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("lastUsedAt after Stop = %v", got.LastUsedAt)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 0 {
		t.Fatalf("flush errors: %v", errs)
	}
}

func TestLastUsedConcurrentSeen(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	r := apikey.NewLastUsed(f.keys, time.Minute, nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			for j := range 100 {
				r.Seen("k", t0.Add(time.Duration(i*100+j)*time.Millisecond))
			}
		})
	}
	wg.Wait()
	if r.Pending() != 1 {
		t.Fatalf("pending = %d", r.Pending())
	}
}
