package webhook

import (
	"sync"
	"time"
)

// maxSampled bounds the sampler's memory: one entry per workflow whose
// webhook failed recently. Past it, entries older than the interval go;
// if all are recent, the map starts over (a few extra audit events, never
// unbounded memory).
const maxSampled = 10000

// sampler lets at most one audit event per key (workflow) through per
// interval and counts the rest, so a flood of bad deliveries cannot fill
// the audit log while every attempt is still counted. It is per instance:
// n instances write at most n events per workflow per interval.
type sampler struct {
	every time.Duration

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start      time.Time
	suppressed uint64
}

func newSampler(every time.Duration) *sampler {
	return &sampler{every: every, windows: make(map[string]*window)}
}

// admit reports whether the failure for key at now should be audited and,
// if so, how many failures for key were suppressed since the last event.
func (s *sampler) admit(key string, now time.Time) (record bool, suppressed uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.windows[key]
	if w != nil && now.Sub(w.start) < s.every {
		w.suppressed++
		return false, 0
	}
	if w != nil {
		suppressed = w.suppressed
	} else if len(s.windows) >= maxSampled {
		s.sweep(now)
	}
	s.windows[key] = &window{start: now}
	return true, suppressed
}

func (s *sampler) sweep(now time.Time) {
	for k, w := range s.windows {
		if now.Sub(w.start) >= s.every {
			delete(s.windows, k)
		}
	}
	if len(s.windows) >= maxSampled {
		clear(s.windows)
	}
}
