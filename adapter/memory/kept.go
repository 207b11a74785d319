package memory

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// KeptState is an in-process port.KeptState: the fake behind unit tests of
// the adapters that persist through it (it survives nothing by itself).
type KeptState struct {
	mu      sync.Mutex
	entries map[[2]string]port.KeptEntry
}

var _ port.KeptState = (*KeptState)(nil)

// NewKeptState returns an empty state.
func NewKeptState() *KeptState {
	return &KeptState{entries: make(map[[2]string]port.KeptEntry)}
}

// Keep stores e, never moving Num or Until backwards.
func (s *KeptState) Keep(ctx context.Context, e port.KeptEntry) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("memory", err)
	}
	e.Until = dbTime(e.Until)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{e.Kind, e.Key}
	if cur, ok := s.entries[k]; ok {
		e.Num = max(e.Num, cur.Num)
		if cur.Until.After(e.Until) {
			e.Until = cur.Until
		}
		if cur.Text != "" {
			e.Text = cur.Text
		}
	}
	s.entries[k] = e
	return nil
}

// Load returns the entries in force at now.
func (s *KeptState) Load(ctx context.Context, now time.Time) ([]port.KeptEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []port.KeptEntry
	for _, e := range s.entries {
		if e.Until.After(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Sweep deletes the entries that ended at or before now.
func (s *KeptState) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.entries {
		if !e.Until.After(now) {
			delete(s.entries, k)
			n++
		}
	}
	return n, nil
}
