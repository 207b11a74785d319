package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/usecase/revocation"
)

// TestInProcessStateSurvivesAReopen revokes tokens, claims a refresh and
// records a webhook digest through the embedded mode's composition, closes
// the file, opens it again with fresh adapters and finds all of it still in
// force — and, once the clock passes their ends, purged.
func TestInProcessStateSurvivesAReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m9m.db")
	now := time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)
	clock := memory.NewClock(now)
	iat := now.Add(-time.Minute)
	tok := session.Claims{TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(), IssuedAt: iat}
	sess := session.Claims{TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(), IssuedAt: iat}
	usr := session.Claims{TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: domain.NewID(), IssuedAt: iat}
	refreshed := domain.NewID()

	// The embedded composition: the revocation record in the file with the
	// in-process denylist as its cache (rebuilt at start), the replay guard
	// kept in the file's kept state (restored at start).
	open := func() (*sqlite.DB, *revocation.Denylist, *memory.ReplayGuard) {
		t.Helper()
		db, err := sqlite.Open(path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlite.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		record, cache := sqlite.NewRevocationRecord(db), memory.NewDenylist(clock)
		if err := cache.Rebuild(ctx, record); err != nil {
			t.Fatal(err)
		}
		g := memory.NewKeptReplayGuard(clock, sqlite.NewKeptState(db))
		if err := g.Restore(ctx); err != nil {
			t.Fatal(err)
		}
		return db, revocation.NewDenylist(record, cache, nil), g
	}

	db, d, g := open()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.DenyToken(ctx, tok.TokenID, now.Add(time.Hour)))
	must(d.DenySession(ctx, sess.SessionID, now.Add(time.Hour)))
	must(d.DenyUserBefore(ctx, usr.UserID, now, now.Add(time.Hour)))
	winner, err := d.ClaimRefresh(ctx, "old-jti", "successor-token", 10*time.Second, now.Add(time.Hour))
	must(err)
	if winner != "successor-token" {
		t.Fatalf("first claim won %q", winner)
	}
	if seen, err := g.Seen(ctx, "digest", 5*time.Minute); err != nil || seen {
		t.Fatalf("first Seen = %v, %v", seen, err)
	}
	must(db.Close())

	db, d, g = open()
	for name, c := range map[string]session.Claims{"jti": tok, "sid": sess, "not-before": usr} {
		if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("after reopening, the token denied by %s: Check = %v, want ErrUnauthenticated", name, err)
		}
	}
	if err := d.Check(ctx, session.Claims{TokenID: refreshed, SessionID: domain.NewID(), UserID: domain.NewID(), IssuedAt: iat}); err != nil {
		t.Errorf("an untouched token after reopening: %v", err)
	}
	// The refreshed token is denied after the reopen; the record still
	// accepts its one successor and refuses another.
	if _, err := d.ClaimRefresh(ctx, "old-jti", "another", 10*time.Second, now.Add(time.Hour)); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Errorf("another successor for the refreshed token after reopening: %v, want ErrUnauthenticated", err)
	}
	if seen, err := g.Seen(ctx, "digest", 5*time.Minute); err != nil || !seen {
		t.Errorf("a replayed digest after reopening: Seen = %v, %v; want true", seen, err)
	}

	clock.Advance(2 * time.Hour)
	n, err := sqlite.NewRevocationRecord(db).Purge(ctx, clock.Now())
	must(err)
	if n != 4 {
		t.Errorf("Purge after every end deleted %d revocations, want 4", n)
	}
	kept, err := sqlite.NewKeptState(db).Sweep(ctx, clock.Now())
	must(err)
	if kept != 1 {
		t.Errorf("Sweep after every end deleted %d kept entries, want the 1 replay digest", kept)
	}
	must(db.Close())
}

// TestLockRefusesASecondHolder takes the file lock twice: the second is
// refused with ErrLocked and a message naming the file; after Unlock it
// can be taken again.
func TestLockRefusesASecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m9m.db")
	l, err := sqlite.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Lock(path)
	if !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("second Lock = %v, want ErrLocked", err)
	}
	if got := err.Error(); !strings.Contains(got, path) {
		t.Fatalf("second Lock's message %q does not name %s", got, path)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := sqlite.Lock(path)
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	_ = l2.Unlock()
}
