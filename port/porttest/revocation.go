package porttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// RevocationRecord runs the contract of port.RevocationRecord. newRecord
// returns the record under test and reopen, which returns the same record as
// a new process would find it (a new adapter over the same database or file;
// an in-process record returns itself).
func RevocationRecord(t *testing.T, newRecord func(t *testing.T) (rec port.RevocationRecord, reopen func() port.RevocationRecord)) {
	ctx := context.Background()
	until := base.Add(15 * time.Minute)

	t.Run("a revocation of each kind is in force until its until, and survives a reopen", func(t *testing.T) {
		rec, reopen := newRecord(t)
		want := []session.Revocation{
			{Kind: session.RevokeToken, ID: domain.NewID(), Until: until},
			{Kind: session.RevokeSession, ID: domain.NewID(), Until: until.Add(time.Minute)},
			{Kind: session.RevokeUser, ID: domain.NewID(), Until: until.Add(2 * time.Minute), NotBefore: base.Add(time.Second)},
		}
		for _, r := range want {
			noErr(t, rec.Revoke(ctx, r))
		}
		got := inForce(t, reopen(), base, want...)
		for _, r := range want {
			sameRevocation(t, got[keyOf(r)], r)
		}
		if got := inForce(t, rec, until, want...); len(got) != 2 {
			t.Fatalf("at the token's until: %d in force, want 2 (the token's denial is over)", len(got))
		}
		if got := inForce(t, rec, until.Add(2*time.Minute), want...); len(got) != 0 {
			t.Fatalf("after every until: %d in force, want 0", len(got))
		}
	})

	t.Run("revoking again keeps the later until and the later not-before", func(t *testing.T) {
		rec, _ := newRecord(t)
		id := domain.NewID()
		user := func(nb, u time.Time) session.Revocation {
			return session.Revocation{Kind: session.RevokeUser, ID: id, NotBefore: nb, Until: u}
		}
		noErr(t, rec.Revoke(ctx, user(base.Add(time.Minute), until)))
		noErr(t, rec.Revoke(ctx, user(base, until.Add(-time.Minute))))
		got := inForce(t, rec, base, user(base, until))
		sameRevocation(t, got[keyOf(user(base, until))], user(base.Add(time.Minute), until))
		noErr(t, rec.Revoke(ctx, user(base.Add(2*time.Minute), until.Add(time.Hour))))
		got = inForce(t, rec, base, user(base, until))
		sameRevocation(t, got[keyOf(user(base, until))], user(base.Add(2*time.Minute), until.Add(time.Hour)))
	})

	t.Run("the kinds are separate: one ID can be a token and a session", func(t *testing.T) {
		rec, _ := newRecord(t)
		id := domain.NewID()
		tok := session.Revocation{Kind: session.RevokeToken, ID: id, Until: until}
		sess := session.Revocation{Kind: session.RevokeSession, ID: id, Until: until.Add(time.Hour)}
		noErr(t, rec.Revoke(ctx, tok))
		noErr(t, rec.Revoke(ctx, sess))
		got := inForce(t, rec, base, tok, sess)
		sameRevocation(t, got[keyOf(tok)], tok)
		sameRevocation(t, got[keyOf(sess)], sess)
	})

	t.Run("a revocation that could never be enforced is refused", func(t *testing.T) {
		rec, _ := newRecord(t)
		for _, r := range []session.Revocation{
			{Kind: "jti", ID: domain.NewID(), Until: until},
			{Kind: session.RevokeSession, ID: "", Until: until},
			{Kind: session.RevokeSession, ID: domain.NewID(), Until: until, Successor: domain.NewID()},
		} {
			wantErr(t, rec.Revoke(ctx, r), domain.ErrInvalid)
		}
		wantErr(t, rec.ClaimRefresh(ctx, "", domain.NewID(), until), domain.ErrInvalid)
		wantErr(t, rec.ClaimRefresh(ctx, domain.NewID(), "", until), domain.ErrInvalid)
	})

	t.Run("claim refresh: the first successor wins, the same one again is fine", func(t *testing.T) {
		rec, reopen := newRecord(t)
		jti, first := domain.NewID(), domain.NewID()
		noErr(t, rec.ClaimRefresh(ctx, jti, first, until))
		noErr(t, rec.ClaimRefresh(ctx, jti, first, until))
		wantErr(t, reopen().ClaimRefresh(ctx, jti, domain.NewID(), until), domain.ErrUnauthenticated)
		want := session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until, Successor: first}
		sameRevocation(t, inForce(t, reopen(), base, want)[keyOf(want)], want)
	})

	t.Run("claim refresh of a logged-out token is refused, and a logout keeps the successor", func(t *testing.T) {
		rec, _ := newRecord(t)
		out := session.Revocation{Kind: session.RevokeToken, ID: domain.NewID(), Until: until}
		noErr(t, rec.Revoke(ctx, out))
		wantErr(t, rec.ClaimRefresh(ctx, out.ID, domain.NewID(), until), domain.ErrUnauthenticated)

		claimed := session.Revocation{Kind: session.RevokeToken, ID: domain.NewID(), Until: until, Successor: domain.NewID()}
		noErr(t, rec.ClaimRefresh(ctx, claimed.ID, claimed.Successor, until))
		noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeToken, ID: claimed.ID, Until: until.Add(time.Minute)}))
		claimed.Until = until.Add(time.Minute)
		sameRevocation(t, inForce(t, rec, base, claimed)[keyOf(claimed)], claimed)
		noErr(t, rec.ClaimRefresh(ctx, claimed.ID, claimed.Successor, until))
	})

	t.Run("claim refresh: 20 concurrent successors, exactly one recorded", func(t *testing.T) {
		rec, _ := newRecord(t)
		jti := domain.NewID()
		const n = 20
		_, errs := allAtOnce(n, func(i int) (struct{}, error) {
			return struct{}{}, rec.ClaimRefresh(ctx, jti, fmt.Sprintf("successor-%02d", i), until)
		})
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("callers %d and %d both won", won, i)
			case err == nil:
				won = i
			default:
				wantErr(t, err, domain.ErrUnauthenticated)
			}
		}
		if won < 0 {
			t.Fatal("no caller won")
		}
		want := session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until, Successor: fmt.Sprintf("successor-%02d", won)}
		sameRevocation(t, inForce(t, rec, base, want)[keyOf(want)], want)
	})

	t.Run("in force stops at the callback's first error", func(t *testing.T) {
		rec, _ := newRecord(t)
		for range 3 {
			noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeToken, ID: domain.NewID(), Until: until}))
		}
		stop := errors.New("stop")
		calls := 0
		err := rec.InForce(ctx, base, func(session.Revocation) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("InForce = %v after %d calls, want the callback's error after 1", err, calls)
		}
	})

	t.Run("purge deletes what is no longer in force, and nothing else", func(t *testing.T) {
		rec, _ := newRecord(t)
		old := session.Revocation{Kind: session.RevokeSession, ID: domain.NewID(), Until: base.Add(-time.Hour)}
		edge := session.Revocation{Kind: session.RevokeToken, ID: domain.NewID(), Until: base.Add(-time.Minute)}
		live := session.Revocation{Kind: session.RevokeUser, ID: domain.NewID(), Until: until, NotBefore: base}
		for _, r := range []session.Revocation{old, edge, live} {
			noErr(t, rec.Revoke(ctx, r))
		}
		n, err := rec.Purge(ctx, edge.Until)
		noErr(t, err)
		if n < 2 {
			t.Fatalf("Purge deleted %d, want at least our 2", n)
		}
		if got := inForce(t, rec, base.Add(-2*time.Hour), old, edge, live); len(got) != 1 || got[keyOf(live)].ID != live.ID {
			t.Fatalf("after purge: %v, want only the live revocation", got)
		}
	})
}

// DenylistRebuild runs the contract of port.RevocationCache on a denylist
// cache. newCache returns the cache under test, telling time by clock, and
// lose, which makes it lose its memory (Redis: its keys are gone) and returns
// it as the service would then find it.
func DenylistRebuild(t *testing.T, newCache func(t *testing.T, clock *memory.Clock) (cache RebuildableDenylist, lose func() RebuildableDenylist)) {
	ctx := context.Background()
	const life = 15 * time.Minute

	t.Run("after a loss, a rebuild enforces every revocation in force again", func(t *testing.T) {
		clock := memory.NewClock(base)
		_, lose := newCache(t, clock)
		rec := memory.NewRevocationRecord()
		byToken, bySession, byUser, claimed, live, expired := claimsAt(base, life), claimsAt(base, life),
			claimsAt(base, life), claimsAt(base, life), claimsAt(base, life), claimsAt(base, life)
		noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeToken, ID: byToken.TokenID, Until: byToken.ExpiresAt}))
		noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeSession, ID: bySession.SessionID, Until: bySession.ExpiresAt}))
		noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeUser, ID: byUser.UserID, NotBefore: base.Add(time.Second), Until: byUser.ExpiresAt}))
		noErr(t, rec.ClaimRefresh(ctx, claimed.TokenID, domain.NewID(), claimed.ExpiresAt))
		noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeToken, ID: expired.TokenID, Until: base.Add(-time.Second)}))

		cache := lose()
		noErr(t, cache.Rebuild(ctx, rec))
		noErr(t, cache.Ready(ctx))
		for name, c := range map[string]session.Claims{"token": byToken, "session": bySession, "user": byUser, "refreshed": claimed} {
			if err := cache.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("%s revocation after rebuild: Check = %v, want ErrUnauthenticated", name, err)
			}
		}
		_, err := cache.ClaimRefresh(ctx, claimed.TokenID, "successor-B", 10*time.Second, claimed.ExpiresAt)
		wantErr(t, err, domain.ErrUnauthenticated) // no second refresh of a rotated token
		noErr(t, cache.Check(ctx, live))
		noErr(t, cache.Check(ctx, expired))
	})

	t.Run("a rebuild keeps a later denial the cache already holds", func(t *testing.T) {
		clock := memory.NewClock(base)
		_, lose := newCache(t, clock)
		cache := lose()
		c := claimsAt(base, life)
		noErr(t, cache.DenyUserBefore(ctx, c.UserID, base.Add(time.Minute), base.Add(time.Hour)))
		rec := memory.NewRevocationRecord()
		noErr(t, rec.Revoke(ctx, session.Revocation{Kind: session.RevokeUser, ID: c.UserID, NotBefore: base, Until: base.Add(time.Minute)}))
		noErr(t, cache.Rebuild(ctx, rec))
		clock.Advance(30 * time.Minute)
		later := c
		later.IssuedAt = base.Add(30 * time.Second)
		wantErr(t, cache.Check(ctx, later), domain.ErrUnauthenticated) // the cache's later not-before won
	})
}

// RebuildableDenylist is a denylist cache: what DenylistRebuild tests.
type RebuildableDenylist interface {
	port.TokenDenylist
	port.RevocationCache
}

// inForce returns the revocations among want that rec holds in force at now,
// by kind and ID; other tests' rows are ignored.
func inForce(t *testing.T, rec port.RevocationRecord, now time.Time, want ...session.Revocation) map[string]session.Revocation {
	t.Helper()
	keys := make(map[string]bool, len(want))
	for _, r := range want {
		keys[keyOf(r)] = true
	}
	got := make(map[string]session.Revocation)
	noErr(t, rec.InForce(context.Background(), now, func(r session.Revocation) error {
		if keys[keyOf(r)] {
			got[keyOf(r)] = r
		}
		return nil
	}))
	return got
}

func keyOf(r session.Revocation) string { return string(r.Kind) + "/" + r.ID }

func sameRevocation(t *testing.T, got, want session.Revocation) {
	t.Helper()
	if got.Kind != want.Kind || got.ID != want.ID || got.Successor != want.Successor ||
		!got.Until.Equal(want.Until) || (want.Kind == session.RevokeUser && !got.NotBefore.Equal(want.NotBefore)) {
		t.Fatalf("revocation = %+v, want %+v", got, want)
	}
}
