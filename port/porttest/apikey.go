package porttest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// APIKeyStores are the stores an API-key adapter provides, plus the user
// store its owners live in (keys refer to users, as in Postgres).
type APIKeyStores struct {
	Keys  port.APIKeyStore
	Auth  port.APIKeyAuthStore
	Users port.UserStore
}

// APIKeyStore runs the contract of port.APIKeyStore and port.APIKeyAuthStore.
func APIKeyStore(t *testing.T, newStores func(t *testing.T) APIKeyStores) {
	ctx := context.Background()

	t.Run("create then get and get by digest round trip every field", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleEditor)
		k := newKey(owner.ID, base.Add(time.Hour))
		exp := base.Add(48*time.Hour + 123456789*time.Nanosecond)
		k.ExpiresAt = &exp
		k.Scopes = []user.Permission{user.PermWorkflowsRead, user.PermAPIKeysManage}
		noErr(t, s.Keys.Create(ctx, k, 0))

		got, err := s.Keys.Get(ctx, k.ID)
		noErr(t, err)
		sameKey(t, got, k)
		if got.ExpiresAt.Nanosecond()%1000 != 0 || got.ExpiresAt.Location() != time.UTC {
			t.Fatalf("expiresAt %v not kept in UTC at microsecond precision", got.ExpiresAt)
		}

		g, err := s.Auth.GetByDigest(ctx, k.Digest)
		noErr(t, err)
		sameKey(t, &g.Key, k)
		if g.OwnerUsername != owner.Username || g.OwnerRole != user.RoleEditor || g.OwnerDisabled {
			t.Fatalf("grant owner = %q %q %v, want %q editor enabled", g.OwnerUsername, g.OwnerRole, g.OwnerDisabled, owner.Username)
		}
	})

	t.Run("a key without expiry or scopes keeps nil times and empty scopes", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		k := newKey(owner.ID, base)
		k.Scopes = []user.Permission{}
		noErr(t, s.Keys.Create(ctx, k, 0))
		got, err := s.Keys.Get(ctx, k.ID)
		noErr(t, err)
		if got.ExpiresAt != nil || got.LastUsedAt != nil || got.RevokedAt != nil || got.GraceUntil != nil {
			t.Fatalf("nil times came back set: %+v", got)
		}
		if got.Scopes == nil || len(got.Scopes) != 0 {
			t.Fatalf("scopes = %#v, want empty non-nil", got.Scopes)
		}
	})

	t.Run("unknown id or digest is not found", func(t *testing.T) {
		s := newStores(t)
		_, err := s.Keys.Get(ctx, domain.NewID())
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Auth.GetByDigest(ctx, randomDigest())
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Keys.Update(ctx, domain.NewID(), func(*apikey.Key) error { return nil })
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("unknown owner is not found and nothing is stored", func(t *testing.T) {
		s := newStores(t)
		k := newKey(domain.NewID(), base)
		wantErr(t, s.Keys.Create(ctx, k, 0), domain.ErrNotFound)
		_, err := s.Keys.Get(ctx, k.ID)
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("duplicate digest or id is a conflict", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		first := newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, first, 0))

		sameDigest := newKey(owner.ID, base)
		sameDigest.Digest = first.Digest
		err := s.Keys.Create(ctx, sameDigest, 0)
		wantErr(t, err, domain.ErrConflict)
		if errors.Is(err, port.ErrKeyLimit) {
			t.Fatal("a duplicate digest must not look like the key limit")
		}
		sameID := newKey(owner.ID, base)
		sameID.ID = first.ID
		wantErr(t, s.Keys.Create(ctx, sameID, 0), domain.ErrConflict)
		got, err := s.Keys.Get(ctx, first.ID)
		noErr(t, err)
		sameKey(t, got, first)
	})

	t.Run("the limit counts only active keys of the owner", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		other := keyOwner(t, s, user.RoleViewer)
		now := base.Add(10 * time.Hour)
		for range 2 {
			noErr(t, s.Keys.Create(ctx, newKey(owner.ID, now), 3))
		}
		// Neither a revoked key (its grace over: one inside it counts), an
		// expired one, nor another owner's key counts.
		revoked := newKey(owner.ID, now)
		revokedAt, graceUntil := now.Add(-time.Hour), now
		revoked.RevokedAt, revoked.GraceUntil = &revokedAt, &graceUntil
		noErr(t, s.Keys.Create(ctx, revoked, 0))
		expired := newKey(owner.ID, now.Add(-2*time.Hour))
		expiredAt := now
		expired.ExpiresAt = &expiredAt
		noErr(t, s.Keys.Create(ctx, expired, 0))
		noErr(t, s.Keys.Create(ctx, newKey(other.ID, now), 0))

		third := newKey(owner.ID, now)
		noErr(t, s.Keys.Create(ctx, third, 3))
		fourth := newKey(owner.ID, now)
		err := s.Keys.Create(ctx, fourth, 3)
		wantErr(t, err, domain.ErrConflict)
		if !errors.Is(err, port.ErrKeyLimit) {
			t.Fatalf("err = %v, want it to wrap port.ErrKeyLimit", err)
		}
		_, err = s.Keys.Get(ctx, fourth.ID)
		wantErr(t, err, domain.ErrNotFound)

		// Revoking one frees a place.
		_, err = s.Keys.Update(ctx, third.ID, func(k *apikey.Key) error { k.RevokedAt = &now; return nil })
		noErr(t, err)
		noErr(t, s.Keys.Create(ctx, fourth, 3))
	})

	t.Run("concurrent creates never overshoot the limit", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		const limit, tries = 3, 12
		var ok, conflict atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, tries)
		for range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := s.Keys.Create(ctx, newKey(owner.ID, base), limit)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, port.ErrKeyLimit):
					conflict.Add(1)
				default:
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("unexpected error: %v", err)
		}
		if ok.Load() != limit || conflict.Load() != tries-limit {
			t.Fatalf("created %d, refused %d; want %d and %d", ok.Load(), conflict.Load(), limit, tries-limit)
		}
	})

	t.Run("update changes mutable fields only and an error aborts it", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		k := newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, k, 0))

		boom := errors.New("boom")
		_, err := s.Keys.Update(ctx, k.ID, func(c *apikey.Key) error {
			now := base.Add(time.Minute)
			c.RevokedAt = &now
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want fn's error", err)
		}
		got, err := s.Keys.Get(ctx, k.ID)
		noErr(t, err)
		sameKey(t, got, k)

		revokedAt, graceUntil := base.Add(time.Minute), base.Add(time.Hour)
		stored, err := s.Keys.Update(ctx, k.ID, func(c *apikey.Key) error {
			c.RevokedAt, c.GraceUntil = &revokedAt, &graceUntil
			c.Name = "renamed"
			c.ID, c.OwnerID, c.Digest, c.Prefix, c.CreatedAt = "x", "y", randomDigest(), "m9m_sk_zzz", base.Add(time.Hour)
			return nil
		})
		noErr(t, err)
		want := k
		want.Name, want.RevokedAt, want.GraceUntil = "renamed", &revokedAt, &graceUntil
		sameKey(t, stored, want)
		got, err = s.Keys.Get(ctx, k.ID)
		noErr(t, err)
		sameKey(t, got, want)
		g, err := s.Auth.GetByDigest(ctx, k.Digest)
		noErr(t, err)
		sameKey(t, &g.Key, want)
	})

	t.Run("rotate retires the old key and inserts the successor together", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		old := newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, old, 1))

		// At the limit, a rotation still succeeds: the successor replaces.
		next := newKey(owner.ID, base.Add(time.Minute))
		at := base.Add(time.Minute)
		retired, err := s.Keys.Rotate(ctx, old.ID, next, 1, func(k *apikey.Key) error { k.RevokedAt = &at; return nil })
		noErr(t, err)
		if retired.RevokedAt == nil || !retired.RevokedAt.Equal(at) {
			t.Fatalf("retired key revokedAt = %v, want %v", retired.RevokedAt, at)
		}
		got, err := s.Keys.Get(ctx, next.ID)
		noErr(t, err)
		sameKey(t, got, next)

		// fn's error: neither happens.
		third := newKey(owner.ID, base.Add(2*time.Minute))
		boom := errors.New("boom")
		_, err = s.Keys.Rotate(ctx, next.ID, third, 0, func(k *apikey.Key) error { k.RevokedAt = &at; return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want fn's error", err)
		}
		_, err = s.Keys.Get(ctx, third.ID)
		wantErr(t, err, domain.ErrNotFound)

		// A successor that cannot be inserted: the old key stays as it was.
		dup := newKey(owner.ID, base.Add(2*time.Minute))
		dup.Digest = old.Digest
		_, err = s.Keys.Rotate(ctx, next.ID, dup, 0, func(k *apikey.Key) error { k.RevokedAt = &at; return nil })
		wantErr(t, err, domain.ErrConflict)
		got, err = s.Keys.Get(ctx, next.ID)
		noErr(t, err)
		sameKey(t, got, next)

		_, err = s.Keys.Rotate(ctx, domain.NewID(), newKey(owner.ID, base), 0, func(*apikey.Key) error { return nil })
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("keys in a rotation grace count toward maxActive", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		a, b := newKey(owner.ID, base), newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, a, 2))
		noErr(t, s.Keys.Create(ctx, b, 2))
		at := base.Add(time.Minute)
		grace := at.Add(time.Hour)
		withGrace := func(k *apikey.Key) error { k.RevokedAt, k.GraceUntil = &at, &grace; return nil }
		// At the limit, a successor that joins its predecessor is refused,
		// and nothing changes.
		next := newKey(owner.ID, at)
		_, err := s.Keys.Rotate(ctx, a.ID, next, 2, withGrace)
		wantErr(t, err, domain.ErrConflict)
		if !errors.Is(err, port.ErrKeyLimit) {
			t.Fatalf("err = %v, want it to wrap ErrKeyLimit", err)
		}
		got, err := s.Keys.Get(ctx, a.ID)
		noErr(t, err)
		if got.RevokedAt != nil {
			t.Fatal("a refused rotation retired the old key")
		}
		_, err = s.Keys.Get(ctx, next.ID)
		wantErr(t, err, domain.ErrNotFound)
		// Below the limit it is fine, and the key in its grace then counts.
		_, err = s.Keys.Rotate(ctx, a.ID, next, 3, withGrace)
		noErr(t, err)
		err = s.Keys.Create(ctx, newKey(owner.ID, at), 3)
		wantErr(t, err, domain.ErrConflict)
		if !errors.Is(err, port.ErrKeyLimit) {
			t.Fatalf("create with a key in its grace: %v, want ErrKeyLimit (3 keys work)", err)
		}
		// Once the grace has ended, it no longer does.
		noErr(t, s.Keys.Create(ctx, newKey(owner.ID, grace), 3))
	})

	t.Run("list pages newest first through live keys of one owner", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		other := keyOwner(t, s, user.RoleViewer)
		now := base.Add(24 * time.Hour)
		var want []apikey.Key
		for i := range 7 {
			// Two keys per timestamp, to exercise the id tie-break.
			k := newKey(owner.ID, base.Add(time.Duration(i/2)*time.Second))
			switch i {
			case 2: // expired: still listed
				exp := base
				k.ExpiresAt = &exp
			case 4: // rotated out, still in grace: listed
				r, g := base, now.Add(time.Second)
				k.RevokedAt, k.GraceUntil = &r, &g
			}
			noErr(t, s.Keys.Create(ctx, k, 0))
			want = append(want, k)
		}
		revoked := newKey(owner.ID, base.Add(time.Second))
		r := base
		revoked.RevokedAt = &r
		noErr(t, s.Keys.Create(ctx, revoked, 0))
		graceOver := newKey(owner.ID, base.Add(time.Second))
		g := now
		graceOver.RevokedAt, graceOver.GraceUntil = &r, &g
		noErr(t, s.Keys.Create(ctx, graceOver, 0))
		noErr(t, s.Keys.Create(ctx, newKey(other.ID, base), 0))

		slices.SortFunc(want, func(a, b apikey.Key) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return compareStrings(b.ID, a.ID)
		})
		var got []apikey.Key
		cursor := ""
		for page := 0; ; page++ {
			keys, next, err := s.Keys.ListByOwner(ctx, owner.ID, now, cursor, 3)
			noErr(t, err)
			if len(keys) > 3 {
				t.Fatalf("page %d has %d keys, limit 3", page, len(keys))
			}
			got = append(got, keys...)
			if next == "" {
				break
			}
			if page > 5 {
				t.Fatal("pagination does not end")
			}
			cursor = next
		}
		if len(got) != len(want) {
			t.Fatalf("listed %d keys, want %d", len(got), len(want))
		}
		for i := range want {
			sameKey(t, &got[i], want[i])
		}

		all, next, err := s.Keys.ListByOwner(ctx, owner.ID, now, "", port.MaxListLimit)
		noErr(t, err)
		if len(all) != len(want) || next != "" {
			t.Fatalf("one big page: %d keys, next %q", len(all), next)
		}
		none, next, err := s.Keys.ListByOwner(ctx, domain.NewID(), now, "", 10)
		noErr(t, err)
		if len(none) != 0 || next != "" {
			t.Fatalf("unknown owner listed %d keys", len(none))
		}
	})

	t.Run("list refuses bad limits and cursors", func(t *testing.T) {
		s := newStores(t)
		for _, limit := range []int{0, -1, port.MaxListLimit + 1} {
			_, _, err := s.Keys.ListByOwner(ctx, domain.NewID(), base, "", limit)
			wantInvalidField(t, err, "limit")
		}
		for _, c := range append([]string{"%%%", "bm90LWpzb24", "e30"}, unstorableCursors...) {
			_, _, err := s.Keys.ListByOwner(ctx, domain.NewID(), base, c, 10)
			wantInvalidField(t, err, "cursor")
		}
	})

	t.Run("get by digest sees the owner's current role and status", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleAdmin)
		k := newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, k, 0))
		_, err := s.Users.Update(ctx, owner.ID, func(u *user.User) error {
			u.Role, u.Disabled = user.RoleViewer, true
			return nil
		})
		noErr(t, err)
		g, err := s.Auth.GetByDigest(ctx, k.Digest)
		noErr(t, err)
		if g.OwnerRole != user.RoleViewer || !g.OwnerDisabled {
			t.Fatalf("grant = %s disabled=%v, want viewer disabled", g.OwnerRole, g.OwnerDisabled)
		}
	})

	t.Run("deleting the owner deletes the keys", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		k := newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, k, 0))
		noErr(t, s.Users.Delete(ctx, owner.ID))
		_, err := s.Keys.Get(ctx, k.ID)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Auth.GetByDigest(ctx, k.Digest)
		wantErr(t, err, domain.ErrNotFound)
		keys, _, err := s.Keys.ListByOwner(ctx, owner.ID, base, "", 10)
		noErr(t, err)
		if len(keys) != 0 {
			t.Fatalf("deleted owner still lists %d keys", len(keys))
		}
	})

	t.Run("touch last used only moves forward and ignores unknown keys", func(t *testing.T) {
		s := newStores(t)
		owner := keyOwner(t, s, user.RoleViewer)
		a, b := newKey(owner.ID, base), newKey(owner.ID, base)
		noErr(t, s.Keys.Create(ctx, a, 0))
		noErr(t, s.Keys.Create(ctx, b, 0))
		noErr(t, s.Auth.TouchLastUsed(ctx, map[string]time.Time{}))

		t1 := base.Add(time.Minute + 1500*time.Nanosecond)
		noErr(t, s.Auth.TouchLastUsed(ctx, map[string]time.Time{a.ID: t1, b.ID: t1, domain.NewID(): t1}))
		noErr(t, s.Auth.TouchLastUsed(ctx, map[string]time.Time{a.ID: base, b.ID: t1.Add(time.Minute)}))

		want := map[string]time.Time{a.ID: t1.Round(time.Microsecond), b.ID: t1.Add(time.Minute).Round(time.Microsecond)}
		for id, w := range want {
			got, err := s.Keys.Get(ctx, id)
			noErr(t, err)
			if got.LastUsedAt == nil {
				t.Fatalf("key %s: lastUsedAt not set", id)
			}
			sameTime(t, "lastUsedAt", *got.LastUsedAt, w)
		}
	})
}

// keyOwner stores a user with role to own keys.
func keyOwner(t *testing.T, s APIKeyStores, role user.Role) *user.User {
	t.Helper()
	u := newUser("keyowner")
	u.Role = role
	noErr(t, s.Users.Create(context.Background(), u))
	return u
}

// newKey returns a fresh key of owner created at createdAt.
func newKey(owner string, createdAt time.Time) apikey.Key {
	return apikey.Key{
		ID:        domain.NewID(),
		OwnerID:   owner,
		Name:      "key " + domain.NewID()[:6],
		Prefix:    "m9m_sk_" + domain.NewID()[:3],
		Digest:    randomDigest(),
		Scopes:    []user.Permission{user.PermWorkflowsRead},
		CreatedAt: createdAt,
	}
}

// randomDigest looks like a hex SHA-256.
func randomDigest() string { return domain.NewID() + domain.NewID() }

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sameKey fails the test unless got and want describe the same key
// (times compared as instants at microsecond precision).
func sameKey(t *testing.T, got *apikey.Key, want apikey.Key) {
	t.Helper()
	if got == nil {
		t.Fatal("got nil key")
	}
	if got.ID != want.ID || got.OwnerID != want.OwnerID || got.Name != want.Name ||
		got.Prefix != want.Prefix || got.Digest != want.Digest || !slices.Equal(got.Scopes, want.Scopes) ||
		!sameInstant(&got.CreatedAt, &want.CreatedAt) || !sameInstant(got.ExpiresAt, want.ExpiresAt) ||
		!sameInstant(got.LastUsedAt, want.LastUsedAt) || !sameInstant(got.RevokedAt, want.RevokedAt) ||
		!sameInstant(got.GraceUntil, want.GraceUntil) {
		t.Fatalf("key = %s\nwant  %s", describeKey(*got), describeKey(want))
	}
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Round(time.Microsecond).Equal(b.Round(time.Microsecond))
}

func describeKey(k apikey.Key) string {
	f := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.Format(time.RFC3339Nano)
	}
	return k.ID + " owner=" + k.OwnerID + " name=" + k.Name + " prefix=" + k.Prefix +
		" created=" + f(&k.CreatedAt) + " expires=" + f(k.ExpiresAt) + " lastUsed=" + f(k.LastUsedAt) +
		" revoked=" + f(k.RevokedAt) + " grace=" + f(k.GraceUntil)
}
