package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
)

func TestUserStore(t *testing.T) {
	porttest.UserStore(t, func(*testing.T) (port.UserStore, port.UserLister) {
		s := memory.NewUserStore()
		return s, s
	})
}

func TestSessionStore(t *testing.T) {
	porttest.SessionStore(t, func(*testing.T) (porttest.Sessions, func(string)) {
		return memory.NewSessionStore(), func(string) {}
	})
}

func TestDenylist(t *testing.T) {
	porttest.TokenDenylist(t, func(_ *testing.T, clock *memory.Clock) port.TokenDenylist {
		return memory.NewDenylist(clock)
	})
}

func TestLoginThrottle(t *testing.T) {
	porttest.LoginThrottle(t, func(_ *testing.T, clock *memory.Clock, l port.ThrottleLimits) port.LoginThrottle {
		return memory.NewLoginThrottle(l, clock)
	})
}

func TestKeptState(t *testing.T) {
	porttest.KeptState(t, func(*testing.T) port.KeptState { return memory.NewKeptState() })
}

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)
	c := memory.NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", c.Now(), start)
	}
	c.Advance(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after Advance Now = %v, want %v", c.Now(), want)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Fatalf("after Set Now = %v, want %v", c.Now(), start)
	}

	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			c.Advance(time.Millisecond)
			_ = c.Now()
		})
	}
	wg.Wait()
	if want := start.Add(100 * time.Millisecond); !c.Now().Equal(want) {
		t.Fatalf("after 100 concurrent Advances Now = %v, want %v", c.Now(), want)
	}
}

func TestRateLimiter(t *testing.T) {
	porttest.RateLimiter(t, func(t *testing.T, clock *memory.Clock, perMinute, burst int) port.RateLimiter {
		l, err := memory.NewRateLimiter(clock, perMinute, burst)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestRequestGate(t *testing.T) {
	porttest.RequestGate(t, func(t *testing.T, clock *memory.Clock, perMinute, burst int) porttest.RequestGates {
		l, err := memory.NewRateLimiter(clock, perMinute, burst)
		if err != nil {
			t.Fatal(err)
		}
		d := memory.NewDenylist(clock)
		return porttest.RequestGates{Gate: memory.NewGate(d, l), Denylist: d, Limiter: l}
	})
}

// TestRateLimiterRefillsByTheClock moves the injected clock: one unit comes
// back per interval, and an idle budget is full again.
func TestRateLimiterRefillsByTheClock(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC))
	l, err := memory.NewRateLimiter(clock, 6, 2) // one per 10 s, burst 2
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for i := range 2 {
		if d, _ := l.Allow(ctx, "k"); !d.Allowed {
			t.Fatalf("burst request %d denied", i+1)
		}
	}
	d, _ := l.Allow(ctx, "k")
	if d.Allowed || d.RetryAfter != 10*time.Second {
		t.Fatalf("past the burst: %+v, want denied, retry after 10s", d)
	}
	clock.Advance(10 * time.Second)
	if d, _ := l.Allow(ctx, "k"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after one interval: %+v, want one unit back", d)
	}
	clock.Advance(time.Minute)
	if d, _ := l.Allow(ctx, "k"); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after idling: %+v, want a full budget", d)
	}
}

func TestKeptReplayGuard(t *testing.T) {
	porttest.WebhookReplayGuard(t, func(_ *testing.T, clock *memory.Clock) port.WebhookReplayGuard {
		return memory.NewKeptReplayGuard(clock, memory.NewKeptState())
	})
}

func TestRevocationRecord(t *testing.T) {
	porttest.RevocationRecord(t, func(*testing.T) (port.RevocationRecord, func() port.RevocationRecord) {
		r := memory.NewRevocationRecord()
		return r, func() port.RevocationRecord { return r }
	})
}

func TestDenylistRebuild(t *testing.T) {
	porttest.DenylistRebuild(t, func(_ *testing.T, clock *memory.Clock) (porttest.RebuildableDenylist, func() porttest.RebuildableDenylist) {
		// An in-process denylist loses its memory only with its process: the
		// next process starts with an empty one.
		return memory.NewDenylist(clock), func() porttest.RebuildableDenylist { return memory.NewDenylist(clock) }
	})
}

func TestRetention(t *testing.T) {
	porttest.Retention(t, func(*testing.T) porttest.RetentionStores {
		users, sessions, audit, workflows := memory.NewUserStore(), memory.NewSessionStore(), memory.NewAuditStore(), memory.NewWorkflowStore()
		keys := memory.NewAPIKeyStore(users)
		return porttest.RetentionStores{
			Users: users, Sessions: sessions, SessionPurger: sessions, Keys: keys, KeyPurger: keys,
			Audit: audit, AuditPurger: audit, Workflows: workflows, Executions: workflows.Executions(), ExecutionPurger: workflows.Executions(),
		}
	})
}

func TestJanitorLock(t *testing.T) {
	porttest.JanitorLock(t, func(*testing.T) (port.JanitorLock, port.JanitorLock) {
		l := memory.NewJanitorLock() // one process, one lock
		return l, l
	})
}

func TestAuditedWrites(t *testing.T) {
	porttest.AuditedWrites(t, func(*testing.T) porttest.AuditedStores {
		trail := memory.NewAuditStore()
		users, sessions, workflows := memory.NewUserStore(), memory.NewSessionStore(), memory.NewWorkflowStore()
		keys := memory.NewAPIKeyStore(users)
		users.AttachAudit(trail)
		sessions.AttachAudit(trail)
		workflows.AttachAudit(trail)
		keys.AttachAudit(trail)
		return porttest.AuditedStores{Users: users, Sessions: sessions, Keys: keys, Workflows: workflows, Audit: trail}
	})
}

func TestKnownClientSource(t *testing.T) {
	porttest.KnownClientSource(t, func(*testing.T) (port.KnownClientSource, port.UserStore, port.SessionStore) {
		users, sessions := memory.NewUserStore(), memory.NewSessionStore()
		return memory.NewKnownClientSource(sessions, users), users, sessions
	})
}

func TestRevocationFeedContract(t *testing.T) {
	porttest.RevocationFeed(t, func(_ *testing.T, clock *memory.Clock) porttest.FeedHarness {
		f := memory.NewFeed(clock)
		return porttest.FeedHarness{
			Denylist: f.Denylist(memory.NewDenylist(clock)), Feed: f,
			Trim: func(*testing.T) { f.Trim() }, Lose: func(*testing.T) { f.Lose() },
		}
	})
}
