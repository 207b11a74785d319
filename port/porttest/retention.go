package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// RetentionStores are one backend's stores with their retention ports
// (contract §14). The purgers are usually the stores themselves.
type RetentionStores struct {
	Users           port.UserStore
	Sessions        port.SessionStore
	SessionPurger   port.SessionPurger
	Keys            port.APIKeyStore
	KeyPurger       port.APIKeyPurger
	Audit           port.AuditStore
	AuditPurger     port.AuditPurger
	Workflows       port.WorkflowStore
	Executions      port.ExecutionStore
	ExecutionPurger port.ExecutionPurger
}

// retentionEra returns the reference instant of the i-th retention subtest:
// decades before anything other suites write, and earlier for each later
// subtest, so a purge deletes exactly the rows its own subtest made old
// (the rows earlier subtests kept are all after its cutoff) and the counts
// can be checked exactly even on a store other suites have filled.
func retentionEra(i int) time.Time {
	return time.Date(1990-10*i, 6, 1, 12, 0, 0, 0, time.UTC)
}

// drain calls purge with limit until it returns fewer, checking that no call
// deletes more than limit, and returns every call's count.
func drain(t *testing.T, limit int, purge func(limit int) (int, error)) []int {
	t.Helper()
	var counts []int
	for range 100 {
		n, err := purge(limit)
		noErr(t, err)
		if n > limit {
			t.Fatalf("a purge with limit %d deleted %d rows", limit, n)
		}
		counts = append(counts, n)
		if n < limit {
			return counts
		}
	}
	t.Fatalf("purge never finished: %v", counts)
	return nil
}

// wantCounts fails the test unless got equals want.
func wantCounts(t *testing.T, got []int, want ...int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("batch counts = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("batch counts = %v, want %v", got, want)
		}
	}
}

// Retention runs the contract of the retention ports: what is past its
// cutoff goes, in batches of at most limit; everything live or recent stays.
func Retention(t *testing.T, newStores func(t *testing.T) RetentionStores) {
	ctx := context.Background()
	seedUser := func(t *testing.T, s RetentionStores) string {
		t.Helper()
		u := newUser("retention")
		noErr(t, s.Users.Create(ctx, u))
		return u.ID
	}

	t.Run("sessions ended or idle before their cutoffs go, live and recent ones stay", func(t *testing.T) {
		s := newStores(t)
		era := retentionEra(0)
		endedBefore, idleBefore := era, era.Add(-time.Hour)
		owner := seedUser(t, s)
		mk := func(refreshed time.Time, ended *time.Time) session.Session {
			x := session.Session{
				ID: domain.NewID(), UserID: owner, CreatedAt: refreshed.Add(-time.Hour),
				LastRefreshedAt: refreshed, IP: "203.0.113.7", UserAgent: "porttest",
			}
			noErr(t, s.Sessions.Create(ctx, x))
			if ended != nil {
				noErr(t, s.Sessions.End(ctx, x.ID, *ended))
			}
			return x
		}
		at := func(d time.Duration) *time.Time { v := era.Add(d); return &v }
		endedOld := mk(era.Add(-3*time.Hour), at(-time.Second))
		idleOld := mk(idleBefore.Add(-time.Second), nil)
		endedRecent := mk(era.Add(-3*time.Hour), at(time.Second))
		live := mk(idleBefore.Add(time.Second), nil) // refreshed long ago, but after the idle cutoff
		// Ended after the ended cutoff although idle for long: its end is recent.
		endedAfterIdle := mk(idleBefore.Add(-time.Hour), at(time.Minute))

		counts := drain(t, 1, func(limit int) (int, error) {
			return s.SessionPurger.PurgeSessions(ctx, endedBefore, idleBefore, limit)
		})
		wantCounts(t, counts, 1, 1, 0)
		for _, gone := range []session.Session{endedOld, idleOld} {
			_, err := s.Sessions.Get(ctx, gone.ID)
			wantErr(t, err, domain.ErrNotFound)
		}
		for _, kept := range []session.Session{endedRecent, live, endedAfterIdle} {
			_, err := s.Sessions.Get(ctx, kept.ID)
			noErr(t, err)
		}
		active, err := s.Sessions.ListActive(ctx, owner)
		noErr(t, err)
		if len(active) != 1 || active[0].ID != live.ID {
			t.Fatalf("ListActive after purge = %+v, want only the live session", active)
		}
	})

	t.Run("api keys that stopped working before the cutoff go, working and recently stopped ones stay", func(t *testing.T) {
		s := newStores(t)
		era := retentionEra(1)
		owner := seedUser(t, s)
		at := func(d time.Duration) *time.Time { v := era.Add(d); return &v }
		mk := func(expires, revoked, grace *time.Time) string {
			k := newKey(owner, era.Add(-48*time.Hour))
			k.ExpiresAt, k.RevokedAt, k.GraceUntil = expires, revoked, grace
			noErr(t, s.Keys.Create(ctx, k, 0))
			return k.ID
		}
		gone := []string{
			mk(at(-time.Second), nil, nil),                      // expired before the cutoff
			mk(nil, at(-time.Hour), nil),                        // revoked before it
			mk(nil, at(-time.Hour), at(-time.Minute)),           // rotated out, grace over before it
			mk(at(time.Hour), at(-2*time.Hour), at(-time.Hour)), // revoked long ago, would have expired later
		}
		kept := []string{
			mk(nil, nil, nil),                        // works, never expires
			mk(at(time.Second), nil, nil),            // expired after the cutoff
			mk(nil, at(time.Second), nil),            // revoked after it
			mk(nil, at(-time.Hour), at(time.Minute)), // rotated out, grace ends after it
		}
		counts := drain(t, 3, func(limit int) (int, error) { return s.KeyPurger.PurgeAPIKeys(ctx, era, limit) })
		wantCounts(t, counts, 3, 1)
		for _, id := range gone {
			_, err := s.Keys.Get(ctx, id)
			wantErr(t, err, domain.ErrNotFound)
		}
		for _, id := range kept {
			_, err := s.Keys.Get(ctx, id)
			noErr(t, err)
		}
	})

	t.Run("audit events older than the cutoff go in batches, newer ones stay", func(t *testing.T) {
		s := newStores(t)
		era := retentionEra(2)
		actor := domain.NewID()
		var events []audit.Event
		for i := range 5 {
			events = append(events, auditEvent(actor, era.Add(-time.Duration(i+1)*time.Second)))
		}
		recent := auditEvent(actor, era)
		same := auditEvent(actor, era.Add(time.Second))
		noErr(t, s.Audit.Insert(ctx, append(events, recent, same)))

		counts := drain(t, 2, func(limit int) (int, error) { return s.AuditPurger.PurgeAuditEvents(ctx, era, limit) })
		wantCounts(t, counts, 2, 2, 1)
		page := auditList(t, s.Audit, audit.Query{ActorID: actor, Limit: 100})
		if len(page.Events) != 2 || page.Events[0].ID != same.ID || page.Events[1].ID != recent.ID {
			t.Fatalf("events left = %+v, want the two at and after the cutoff", page.Events)
		}
	})

	t.Run("executions received before the cutoff go, later ones stay, across workflows", func(t *testing.T) {
		s := newStores(t)
		era := retentionEra(3)
		owner := seedUser(t, s)
		a, b := newWorkflow(owner, nil), newWorkflow(owner, nil)
		noErr(t, s.Workflows.Create(ctx, a))
		noErr(t, s.Workflows.Create(ctx, b))
		for _, x := range []struct {
			wf string
			at time.Duration
		}{{a.ID, -time.Hour}, {a.ID, -time.Second}, {b.ID, -time.Minute}, {a.ID, 0}, {b.ID, time.Second}} {
			noErr(t, s.Executions.Create(ctx, newExecution(x.wf, era.Add(x.at))))
		}
		counts := drain(t, 2, func(limit int) (int, error) { return s.ExecutionPurger.PurgeExecutions(ctx, era, limit) })
		wantCounts(t, counts, 2, 1)
		for wf, want := range map[string]int{a.ID: 1, b.ID: 1} {
			left, _, err := s.Executions.ListByWorkflow(ctx, wf, "", 100)
			noErr(t, err)
			if len(left) != want {
				t.Fatalf("workflow %s keeps %d executions, want %d", wf, len(left), want)
			}
			if left[0].ReceivedAt.Before(era) {
				t.Fatalf("an execution received before the cutoff survived: %v", left[0].ReceivedAt)
			}
		}
		if _, err := s.Workflows.Get(ctx, a.ID); err != nil {
			t.Fatalf("purging executions touched their workflow: %v", err)
		}
	})

	t.Run("nothing to purge deletes nothing, and a limit below 1 is invalid", func(t *testing.T) {
		s := newStores(t)
		era := retentionEra(4)
		n, err := s.AuditPurger.PurgeAuditEvents(ctx, era, 10)
		noErr(t, err)
		if n != 0 {
			t.Fatalf("purge of an empty range deleted %d", n)
		}
		_, err = s.SessionPurger.PurgeSessions(ctx, era, era, 0)
		wantInvalidField(t, err, "limit")
		_, err = s.KeyPurger.PurgeAPIKeys(ctx, era, 0)
		wantInvalidField(t, err, "limit")
		_, err = s.AuditPurger.PurgeAuditEvents(ctx, era, -1)
		wantInvalidField(t, err, "limit")
		_, err = s.ExecutionPurger.PurgeExecutions(ctx, era, 0)
		wantInvalidField(t, err, "limit")
	})
}

// JanitorLock runs the contract of port.JanitorLock. newLocks returns two
// locks that guard the same data as two instances would see them (two
// handles on one database; in the embedded mode, the one process's lock).
func JanitorLock(t *testing.T, newLocks func(t *testing.T) (a, b port.JanitorLock)) {
	ctx := context.Background()

	t.Run("one holder at a time; release lets the other in", func(t *testing.T) {
		a, b := newLocks(t)
		releaseA, ok, err := a.TryAcquire(ctx)
		noErr(t, err)
		if !ok {
			t.Fatal("a free lock was not acquired")
		}
		if _, ok, err := b.TryAcquire(ctx); err != nil || ok {
			t.Fatalf("second holder: acquired=%v err=%v, want false, nil", ok, err)
		}
		if _, ok, err := a.TryAcquire(ctx); err != nil || ok {
			t.Fatalf("same handle again while held: acquired=%v err=%v, want false, nil", ok, err)
		}
		releaseA()
		releaseA() // a second release is harmless
		releaseB, ok, err := b.TryAcquire(ctx)
		noErr(t, err)
		if !ok {
			t.Fatal("lock not acquired after its holder released it")
		}
		if _, ok, _ := a.TryAcquire(ctx); ok {
			t.Fatal("the first holder re-acquired a lock the second holds")
		}
		releaseB()
		releaseA2, ok, err := a.TryAcquire(ctx)
		noErr(t, err)
		if !ok {
			t.Fatal("lock not acquired after both released")
		}
		releaseA2()
	})

	t.Run("a cancelled context is an error, not a pass", func(t *testing.T) {
		a, _ := newLocks(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, ok, err := a.TryAcquire(cctx); err == nil || ok {
			t.Fatalf("cancelled: acquired=%v err=%v, want false and an error", ok, err)
		}
	})
}
