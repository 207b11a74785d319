package porttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// KnownClientSource runs the contract of port.KnownClientSource. newSource
// returns the source under test and the user and session stores it reads.
// The stores may hold other tests' rows: every case looks only at its own
// users' clients.
func KnownClientSource(t *testing.T, newSource func(t *testing.T) (port.KnownClientSource, port.UserStore, port.SessionStore)) {
	ctx := context.Background()
	// seed creates a user named like prefix and returns its username and ID.
	seed := func(t *testing.T, users port.UserStore, prefix string) (string, string) {
		t.Helper()
		u := &user.User{
			ID: domain.NewID(), Username: prefix + "-" + domain.NewID()[:12], Role: user.RoleEditor,
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", CreatedAt: base, UpdatedAt: base,
		}
		noErr(t, users.Create(ctx, u))
		return u.Username, u.ID
	}
	login := func(t *testing.T, sessions port.SessionStore, userID, ip string, at time.Time) session.Session {
		t.Helper()
		s := session.Session{ID: domain.NewID(), UserID: userID, CreatedAt: at, LastRefreshedAt: at, IP: ip, UserAgent: "porttest"}
		noErr(t, sessions.Create(ctx, s))
		return s
	}
	// collect reads every page after since and keeps the clients of names.
	collect := func(t *testing.T, src port.KnownClientSource, since time.Time, pageSize int, names ...string) ([]port.SessionClient, []int) {
		t.Helper()
		keep := map[string]bool{}
		for _, n := range names {
			keep[n] = true
		}
		var got []port.SessionClient
		var sizes []int
		noErr(t, src.SessionClients(ctx, since, pageSize, func(page []port.SessionClient) error {
			if len(page) == 0 || len(page) > pageSize {
				return fmt.Errorf("a page of %d clients, want 1..%d", len(page), pageSize)
			}
			sizes = append(sizes, len(page))
			for _, c := range page {
				if keep[c.Username] {
					got = append(got, c)
				}
			}
			return nil
		}))
		return got, sizes
	}

	t.Run("the clients of sessions created after since, in creation order, over pages", func(t *testing.T) {
		src, users, sessions := newSource(t)
		alice, aliceID := seed(t, users, "alice")
		bob, bobID := seed(t, users, "bob")
		// Later than the other contracts' sessions, though collect ignores those.
		t0 := base.Add(1000 * 24 * time.Hour)
		login(t, sessions, aliceID, "192.0.2.1", t0) // at since: not after it
		login(t, sessions, aliceID, "192.0.2.2", t0.Add(time.Second))
		// Two at the same time straddle a page boundary (pages of 2).
		login(t, sessions, bobID, "2001:db8::1", t0.Add(2*time.Second))
		login(t, sessions, aliceID, "192.0.2.3", t0.Add(2*time.Second))
		ended := login(t, sessions, aliceID, "192.0.2.4", t0.Add(3*time.Second))
		noErr(t, sessions.End(ctx, ended.ID, t0.Add(4*time.Second)))
		login(t, sessions, bobID, "2001:db8::1", t0.Add(5*time.Second)) // the same client again

		got, sizes := collect(t, src, t0, 2, alice, bob)
		if len(got) != 5 {
			t.Fatalf("got %d clients %+v, want the 5 sessions after since", len(got), got)
		}
		for i, c := range got {
			if i > 0 && c.CreatedAt.Before(got[i-1].CreatedAt) {
				t.Fatalf("client %d (%v) comes before the previous one (%v), want creation order", i, c.CreatedAt, got[i-1].CreatedAt)
			}
		}
		if c := got[0]; c.Username != alice || c.IP != "192.0.2.2" || !c.CreatedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("first client = %+v, want alice's session from 192.0.2.2 at since+1s", c)
		}
		same := map[string]bool{got[1].Username + " " + got[1].IP: true, got[2].Username + " " + got[2].IP: true}
		if !same[alice+" 192.0.2.3"] || !same[bob+" 2001:db8::1"] {
			t.Fatalf("clients 2 and 3 = %+v, %+v, want alice's 192.0.2.3 and bob's 2001:db8::1 (the same time)", got[1], got[2])
		}
		if c := got[3]; c.Username != alice || c.IP != "192.0.2.4" {
			t.Fatalf("client 4 = %+v, want alice's ended session from 192.0.2.4", c)
		}
		if c := got[4]; c.Username != bob || c.IP != "2001:db8::1" || !c.CreatedAt.Equal(t0.Add(5*time.Second)) {
			t.Fatalf("client 5 = %+v, want bob's second session", c)
		}
		if len(sizes) < 3 {
			t.Fatalf("pages of %v, want at least 3 pages of at most 2", sizes)
		}
		if later, _ := collect(t, src, t0.Add(2*time.Second), 100, alice, bob); len(later) != 2 {
			t.Fatalf("after since+2s: %+v, want the 2 later sessions", later)
		}
	})

	t.Run("a deleted user's sessions are not listed", func(t *testing.T) {
		src, users, sessions := newSource(t)
		carol, carolID := seed(t, users, "carol")
		t0 := base.Add(2000 * 24 * time.Hour)
		login(t, sessions, carolID, "192.0.2.7", t0.Add(time.Second))
		if got, _ := collect(t, src, t0, 10, carol); len(got) != 1 {
			t.Fatalf("before the delete: %+v, want carol's session", got)
		}
		noErr(t, users.Delete(ctx, carolID))
		if got, _ := collect(t, src, t0, 10, carol); len(got) != 0 {
			t.Fatalf("after the delete: %+v, want nothing", got)
		}
	})

	t.Run("fn's error stops the listing and is returned", func(t *testing.T) {
		src, users, sessions := newSource(t)
		_, id := seed(t, users, "dave")
		t0 := base.Add(3000 * 24 * time.Hour)
		for i := range 3 {
			login(t, sessions, id, "192.0.2.8", t0.Add(time.Duration(i+1)*time.Second))
		}
		stop := errors.New("stop")
		calls := 0
		err := src.SessionClients(ctx, t0, 1, func([]port.SessionClient) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("SessionClients = %v after %d calls, want fn's error after 1", err, calls)
		}
	})

	t.Run("a page size below 1 is invalid", func(t *testing.T) {
		src, _, _ := newSource(t)
		for _, n := range []int{0, -1} {
			err := src.SessionClients(ctx, base, n, func([]port.SessionClient) error { return nil })
			if !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("pageSize %d: %v, want domain.ErrInvalid", n, err)
			}
		}
	})
}
