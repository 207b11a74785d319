package porttest

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserStore runs the contract of port.UserStore and port.UserLister.
// newStore returns the store under test; both results may be one value.
func UserStore(t *testing.T, newStore func(t *testing.T) (port.UserStore, port.UserLister)) {
	ctx := context.Background()

	t.Run("create then get by id and by username ignoring case", func(t *testing.T) {
		s, _ := newStore(t)
		u := newUser("Alice")
		noErr(t, s.Create(ctx, u))
		got, err := s.Get(ctx, u.ID)
		noErr(t, err)
		sameUser(t, got, u)
		for _, name := range []string{u.Username, strings.ToUpper(u.Username), strings.ToLower(u.Username)} {
			got, err = s.GetByUsername(ctx, name)
			noErr(t, err)
			sameUser(t, got, u)
		}
	})

	t.Run("create assigns an id when none is given", func(t *testing.T) {
		s, _ := newStore(t)
		u := newUser("noid")
		u.ID = ""
		noErr(t, s.Create(ctx, u))
		if u.ID == "" {
			t.Fatal("Create left ID empty")
		}
		got, err := s.Get(ctx, u.ID)
		noErr(t, err)
		sameUser(t, got, u)
	})

	t.Run("unknown id or username is not found", func(t *testing.T) {
		s, _ := newStore(t)
		_, err := s.Get(ctx, domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.GetByUsername(ctx, "nobody-"+domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("duplicate username is a conflict ignoring case", func(t *testing.T) {
		s, _ := newStore(t)
		first := newUser("bob")
		noErr(t, s.Create(ctx, first))
		for _, name := range []string{first.Username, strings.ToUpper(first.Username)} {
			dup := newUser("x")
			dup.Username = name
			wantErr(t, s.Create(ctx, dup), domain.ErrConflict)
			_, err := s.Get(ctx, dup.ID)
			wantErr(t, err, domain.ErrNotFound)
		}
		got, err := s.Get(ctx, first.ID)
		noErr(t, err)
		sameUser(t, got, first)
	})

	t.Run("duplicate id is a conflict", func(t *testing.T) {
		s, _ := newStore(t)
		first := newUser("carol")
		noErr(t, s.Create(ctx, first))
		dup := newUser("dave")
		dup.ID = first.ID
		wantErr(t, s.Create(ctx, dup), domain.ErrConflict)
	})

	t.Run("update changes fields in the closure and returns the stored user", func(t *testing.T) {
		s, _ := newStore(t)
		u := newUser("erin")
		noErr(t, s.Create(ctx, u))
		later := u.UpdatedAt.Add(time.Hour)
		got, err := s.Update(ctx, u.ID, func(x *user.User) error {
			sameUser(t, x, u)
			x.Username = "Renamed-" + domain.NewID()[:8]
			x.Role = user.RoleAdmin
			x.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$new"
			x.Disabled = true
			x.UpdatedAt = later
			x.ID = "ignored"                   // immutable
			x.CreatedAt = later.Add(time.Hour) // immutable
			return nil
		})
		noErr(t, err)
		if got.ID != u.ID || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("Update changed ID or CreatedAt: %+v", got)
		}
		if got.Role != user.RoleAdmin || !got.Disabled || !strings.HasPrefix(got.Username, "Renamed-") ||
			got.PasswordHash != "$argon2id$v=19$m=65536,t=3,p=2$new" || !got.UpdatedAt.Equal(later) {
			t.Fatalf("Update did not store the changes: %+v", got)
		}
		stored, err := s.Get(ctx, u.ID)
		noErr(t, err)
		sameUser(t, stored, got)
		_, err = s.GetByUsername(ctx, strings.ToLower(got.Username))
		noErr(t, err)
		_, err = s.GetByUsername(ctx, u.Username)
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("an error from the closure aborts the update", func(t *testing.T) {
		s, _ := newStore(t)
		u := newUser("frank")
		noErr(t, s.Create(ctx, u))
		abort := errors.New("abort")
		got, err := s.Update(ctx, u.ID, func(x *user.User) error {
			x.Role = user.RoleAdmin
			x.Disabled = true
			return abort
		})
		if !errors.Is(err, abort) || got != nil {
			t.Fatalf("Update = %v, %v; want nil, the closure's error", got, err)
		}
		stored, err := s.Get(ctx, u.ID)
		noErr(t, err)
		sameUser(t, stored, u)
	})

	t.Run("update of an unknown user is not found and never calls the closure", func(t *testing.T) {
		s, _ := newStore(t)
		_, err := s.Update(ctx, domain.NewID(), func(*user.User) error {
			t.Error("closure called for an unknown user")
			return nil
		})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("update to a taken username is a conflict and changes nothing", func(t *testing.T) {
		s, _ := newStore(t)
		a, b := newUser("gina"), newUser("hank")
		noErr(t, s.Create(ctx, a))
		noErr(t, s.Create(ctx, b))
		_, err := s.Update(ctx, b.ID, func(x *user.User) error {
			x.Username = strings.ToUpper(a.Username)
			x.Role = user.RoleAdmin
			return nil
		})
		wantErr(t, err, domain.ErrConflict)
		stored, err := s.Get(ctx, b.ID)
		noErr(t, err)
		sameUser(t, stored, b)
	})

	t.Run("concurrent updates of one user are serialized", func(t *testing.T) {
		s, _ := newStore(t)
		u := newUser("ivan")
		u.PasswordHash = ""
		noErr(t, s.Create(ctx, u))
		const n = 10
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := s.Update(ctx, u.ID, func(x *user.User) error {
					x.PasswordHash += "x"
					return nil
				})
				if err != nil {
					t.Errorf("Update: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := s.Get(ctx, u.ID)
		noErr(t, err)
		if got.PasswordHash != strings.Repeat("x", n) {
			t.Fatalf("after %d concurrent appends PasswordHash = %q: updates were lost", n, got.PasswordHash)
		}
	})

	t.Run("delete removes the user and frees the username", func(t *testing.T) {
		s, _ := newStore(t)
		u := newUser("judy")
		noErr(t, s.Create(ctx, u))
		noErr(t, s.Delete(ctx, u.ID))
		_, err := s.Get(ctx, u.ID)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.GetByUsername(ctx, u.Username)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.Delete(ctx, u.ID), domain.ErrNotFound)
		again := newUser("x")
		again.Username = u.Username
		noErr(t, s.Create(ctx, again))
	})

	t.Run("count follows creates and deletes", func(t *testing.T) {
		s, l := newStore(t)
		before, err := l.Count(ctx)
		noErr(t, err)
		a, b := newUser("kim"), newUser("lou")
		noErr(t, s.Create(ctx, a))
		noErr(t, s.Create(ctx, b))
		n, err := l.Count(ctx)
		noErr(t, err)
		if n != before+2 {
			t.Fatalf("Count = %d after 2 creates, want %d", n, before+2)
		}
		noErr(t, s.Delete(ctx, a.ID))
		n, err = l.Count(ctx)
		noErr(t, err)
		if n != before+1 {
			t.Fatalf("Count = %d after a delete, want %d", n, before+1)
		}
	})

	t.Run("list pages over everything in a stable order", func(t *testing.T) {
		s, l := newStore(t)
		// Seven users, two of them created in the same microsecond so the
		// ID breaks the tie, inserted out of order.
		var mine []*user.User
		at := base.Add(-time.Hour)
		for _, off := range []time.Duration{5, 1, 3, 3, 0, 6, 2} {
			u := newUser("page")
			u.CreatedAt = at.Add(off * time.Second)
			u.UpdatedAt = u.CreatedAt
			noErr(t, s.Create(ctx, u))
			mine = append(mine, u)
		}
		total, err := l.Count(ctx)
		noErr(t, err)

		var all []user.User
		cursor, pages := "", 0
		for {
			page, next, err := l.List(ctx, cursor, 3)
			noErr(t, err)
			pages++
			if len(page) > 3 {
				t.Fatalf("page of %d users, limit 3", len(page))
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			if len(page) != 3 {
				t.Fatalf("short page (%d) with a next cursor", len(page))
			}
			if pages > total {
				t.Fatal("List does not terminate")
			}
			cursor = next
		}
		if len(all) != total {
			t.Fatalf("paged over %d users, Count says %d", len(all), total)
		}
		if pages < 3 {
			t.Fatalf("%d pages for %d users with limit 3", pages, total)
		}
		for i := 1; i < len(all); i++ {
			if cmpUsers(all[i-1], all[i]) >= 0 {
				t.Fatalf("not strictly ordered by (CreatedAt, ID) at %d: %v/%s then %v/%s",
					i, all[i-1].CreatedAt, all[i-1].ID, all[i].CreatedAt, all[i].ID)
			}
		}
		seen := map[string]int{}
		for _, u := range all {
			seen[u.ID]++
		}
		for _, u := range mine {
			if seen[u.ID] != 1 {
				t.Fatalf("user %s listed %d times, want once", u.ID, seen[u.ID])
			}
		}

		// A page as large as everything ends the listing.
		page, next, err := l.List(ctx, "", port.MaxListLimit)
		noErr(t, err)
		if total <= port.MaxListLimit && (next != "" || len(page) != total) {
			t.Fatalf("List(limit=max) = %d users, next %q; want %d and no cursor", len(page), next, total)
		}
	})

	t.Run("list refuses a malformed cursor and a bad limit", func(t *testing.T) {
		_, l := newStore(t)
		for _, c := range append([]string{"not a cursor!", "bm90LWpzb24", "e30"}, unstorableCursors...) {
			_, _, err := l.List(ctx, c, 10)
			wantInvalidField(t, err, "cursor")
		}
		for _, n := range []int{0, -1, port.MaxListLimit + 1} {
			_, _, err := l.List(ctx, "", n)
			wantInvalidField(t, err, "limit")
		}
	})
}

var userSeq struct {
	sync.Mutex
	n int
}

// newUser returns a user with a unique username starting with name and
// distinct creation time at second precision.
func newUser(name string) *user.User {
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	at := base.Add(time.Duration(n) * time.Second)
	return &user.User{
		ID:           domain.NewID(),
		Username:     name + "-" + domain.NewID()[:12],
		Role:         user.RoleViewer,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
		CreatedAt:    at,
		UpdatedAt:    at,
	}
}

// sameUser fails the test unless got and want describe the same user.
func sameUser(t *testing.T, got, want *user.User) {
	t.Helper()
	if got == nil {
		t.Fatal("got nil user")
	}
	if got.ID != want.ID || got.Username != want.Username || got.Role != want.Role ||
		got.PasswordHash != want.PasswordHash || got.Disabled != want.Disabled ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("user = %+v\nwant   %+v", *got, *want)
	}
}

func cmpUsers(a, b user.User) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
}
