package porttest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Sessions is what a session store adapter provides: both session ports.
type Sessions interface {
	port.SessionStore
	port.SessionEnder
}

// SessionStore runs the contract of port.SessionStore and port.SessionEnder.
// newStore returns the store under test and seedUser, which must make a user
// with the given ID exist (stores with a foreign key to users need it; others
// may do nothing).
func SessionStore(t *testing.T, newStore func(t *testing.T) (store Sessions, seedUser func(id string))) {
	ctx := context.Background()

	// newSession returns a fresh session of userID created at.
	newSession := func(userID string, at time.Time) session.Session {
		return session.Session{
			ID:              domain.NewID(),
			UserID:          userID,
			CreatedAt:       at,
			LastRefreshedAt: at,
			IP:              "203.0.113.7",
			UserAgent:       "Mozilla/5.0 (porttest)",
		}
	}
	// seeded returns a new user ID that exists in the store.
	seeded := func(seed func(string)) string {
		id := domain.NewID()
		seed(id)
		return id
	}

	t.Run("create then get", func(t *testing.T) {
		s, seed := newStore(t)
		want := newSession(seeded(seed), base)
		noErr(t, s.Create(ctx, want))
		got, err := s.Get(ctx, want.ID)
		noErr(t, err)
		sameSession(t, got, want)
		if !got.Active() {
			t.Fatal("new session is not active")
		}
	})

	t.Run("duplicate id is a conflict", func(t *testing.T) {
		s, seed := newStore(t)
		a := newSession(seeded(seed), base)
		noErr(t, s.Create(ctx, a))
		wantErr(t, s.Create(ctx, a), domain.ErrConflict)
	})

	t.Run("unknown id is not found", func(t *testing.T) {
		s, _ := newStore(t)
		_, err := s.Get(ctx, domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("list active returns the user's live sessions, newest first", func(t *testing.T) {
		s, seed := newStore(t)
		alice, bob := seeded(seed), seeded(seed)
		older := newSession(alice, base)
		newer := newSession(alice, base.Add(time.Minute))
		ended := newSession(alice, base.Add(2*time.Minute))
		other := newSession(bob, base.Add(3*time.Minute))
		for _, x := range []session.Session{older, newer, ended, other} {
			noErr(t, s.Create(ctx, x))
		}
		noErr(t, s.End(ctx, ended.ID, base.Add(4*time.Minute)))

		got, err := s.ListActive(ctx, alice)
		noErr(t, err)
		if len(got) != 2 {
			t.Fatalf("ListActive = %d sessions, want 2", len(got))
		}
		sameSession(t, &got[0], newer)
		sameSession(t, &got[1], older)

		got, err = s.ListActive(ctx, domain.NewID())
		noErr(t, err)
		if len(got) != 0 {
			t.Fatalf("ListActive(unknown user) = %d sessions, want 0", len(got))
		}
	})

	t.Run("touch records a refresh of an active session only", func(t *testing.T) {
		s, seed := newStore(t)
		x := newSession(seeded(seed), base)
		noErr(t, s.Create(ctx, x))
		at := base.Add(5 * time.Minute)
		noErr(t, s.Touch(ctx, x.ID, at))
		got, err := s.Get(ctx, x.ID)
		noErr(t, err)
		sameTime(t, "LastRefreshedAt", got.LastRefreshedAt, at)
		sameTime(t, "CreatedAt", got.CreatedAt, base)

		wantErr(t, s.Touch(ctx, domain.NewID(), at), domain.ErrNotFound)
		noErr(t, s.End(ctx, x.ID, at))
		wantErr(t, s.Touch(ctx, x.ID, at.Add(time.Minute)), domain.ErrNotFound)
	})

	t.Run("end keeps the first end time and unknown is not found", func(t *testing.T) {
		s, seed := newStore(t)
		x := newSession(seeded(seed), base)
		noErr(t, s.Create(ctx, x))
		first := base.Add(time.Hour)
		noErr(t, s.End(ctx, x.ID, first))
		noErr(t, s.End(ctx, x.ID, first.Add(time.Hour)))
		got, err := s.Get(ctx, x.ID)
		noErr(t, err)
		if got.Active() {
			t.Fatal("ended session is active")
		}
		sameTime(t, "EndedAt", *got.EndedAt, first)
		wantErr(t, s.End(ctx, domain.NewID(), first), domain.ErrNotFound)
	})

	t.Run("end all for user spares the current session and other users", func(t *testing.T) {
		s, seed := newStore(t)
		alice, bob := seeded(seed), seeded(seed)
		current := newSession(alice, base)
		a1 := newSession(alice, base.Add(time.Second))
		a2 := newSession(alice, base.Add(2*time.Second))
		gone := newSession(alice, base.Add(3*time.Second))
		theirs := newSession(bob, base)
		for _, x := range []session.Session{current, a1, a2, gone, theirs} {
			noErr(t, s.Create(ctx, x))
		}
		noErr(t, s.End(ctx, gone.ID, base.Add(time.Minute)))

		at := base.Add(time.Hour)
		ended, err := s.EndAllForUser(ctx, alice, current.ID, at)
		noErr(t, err)
		want := []string{a1.ID, a2.ID}
		slices.Sort(want)
		if !slices.Equal(ended, want) {
			t.Fatalf("EndAllForUser = %v, want %v (sorted, without the current or already ended session)", ended, want)
		}
		for _, id := range want {
			got, err := s.Get(ctx, id)
			noErr(t, err)
			if got.Active() {
				t.Fatalf("session %s still active", id)
			}
			sameTime(t, "EndedAt", *got.EndedAt, at)
		}
		got, err := s.Get(ctx, gone.ID)
		noErr(t, err)
		sameTime(t, "EndedAt of a session ended before", *got.EndedAt, base.Add(time.Minute))
		live, err := s.ListActive(ctx, alice)
		noErr(t, err)
		if len(live) != 1 || live[0].ID != current.ID {
			t.Fatalf("ListActive after EndAllForUser = %v, want only the current session", live)
		}
		live, err = s.ListActive(ctx, bob)
		noErr(t, err)
		if len(live) != 1 {
			t.Fatalf("another user's sessions were ended: %v", live)
		}

		again, err := s.EndAllForUser(ctx, alice, current.ID, at)
		noErr(t, err)
		if len(again) != 0 {
			t.Fatalf("second EndAllForUser = %v, want none", again)
		}
		all, err := s.EndAllForUser(ctx, alice, "", at)
		noErr(t, err)
		if !slices.Equal(all, []string{current.ID}) {
			t.Fatalf("EndAllForUser(except none) = %v, want [%s]", all, current.ID)
		}
	})
}

// sameSession fails the test unless got and want describe the same session.
func sameSession(t *testing.T, got *session.Session, want session.Session) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.IP != want.IP || got.UserAgent != want.UserAgent ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.LastRefreshedAt.Equal(want.LastRefreshedAt) ||
		(got.EndedAt == nil) != (want.EndedAt == nil) ||
		(got.EndedAt != nil && !got.EndedAt.Equal(*want.EndedAt)) {
		t.Fatalf("session = %+v\nwant      %+v", *got, want)
	}
}
