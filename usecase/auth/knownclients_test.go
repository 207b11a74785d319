package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
)

// The replay remembers the network of every session within the TTL, each as
// of its creation, over several pages, and nothing older.
func TestReplayKnownClients(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := memory.NewClock(now)
	users, sessions := memory.NewUserStore(), memory.NewSessionStore()
	const ttl = 24 * time.Hour
	throttle := memory.NewLoginThrottle(port.ThrottleLimits{MaxPerUsername: 3, KnownClientTTL: ttl}, clock)
	seed := func(name string) string {
		u := &user.User{ID: domain.NewID(), Username: name, Role: user.RoleViewer, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
		if err := users.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	login := func(userID, ip string, at time.Time) {
		if err := sessions.Create(ctx, session.Session{ID: domain.NewID(), UserID: userID, CreatedAt: at, LastRefreshedAt: at, IP: ip}); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob := seed("alice"), seed("bob")
	login(alice, "192.0.2.1", now.Add(-23*time.Hour))
	login(alice, "192.0.2.2", now.Add(-25*time.Hour)) // older than the TTL
	for i := range 1500 {                             // more than one page
		login(bob, fmt.Sprintf("2001:db8:%x::1", i), now.Add(-time.Hour))
	}
	n, err := auth.ReplayKnownClients(ctx, memory.NewKnownClientSource(sessions, users), throttle, now, ttl)
	if err != nil || n != 1501 {
		t.Fatalf("ReplayKnownClients = %d, %v, want the 1501 sessions within the TTL", n, err)
	}
	protect := func() {
		for i := range 4 {
			if _, err := throttle.Fail(ctx, port.NewLoginAttempt("alice", principal.Client{IP: fmt.Sprintf("203.0.113.%d", i+1)})); err != nil {
				t.Fatal(err)
			}
		}
	}
	protect()
	check := func(ip string) time.Duration {
		d, err := throttle.Check(ctx, port.NewLoginAttempt("ALICE", principal.Client{IP: ip}))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := check("192.0.2.1"); d != 0 {
		t.Fatalf("alice's replayed network: Check = %v, want 0", d)
	}
	if d := check("192.0.2.2"); d <= 0 {
		t.Fatalf("a network of a session older than the TTL: Check = %v, want throttled", d)
	}
	clock.Advance(time.Hour) // the replayed time is the session's: 23h + 1h is a TTL
	protect()
	if d := check("192.0.2.1"); d <= 0 {
		t.Fatalf("a TTL after the session: Check = %v, want throttled", d)
	}
}
