package retention_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/usecase/retention"
)

var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	clock     *memory.Clock
	lock      *memory.JanitorLock
	users     *memory.UserStore
	sessions  *memory.SessionStore
	keys      *memory.APIKeyStore
	audit     *memory.AuditStore
	workflows *memory.WorkflowStore
	owner     string
	janitor   *retention.Janitor
}

var policy = retention.Policy{
	Sessions: 24 * time.Hour, AuditEvents: 48 * time.Hour, Executions: 12 * time.Hour, TokenLifetime: time.Hour,
}

func newFixture(t *testing.T, p retention.Policy) *fixture {
	t.Helper()
	f := &fixture{
		clock: memory.NewClock(start), lock: memory.NewJanitorLock(),
		users: memory.NewUserStore(), sessions: memory.NewSessionStore(),
		audit: memory.NewAuditStore(), workflows: memory.NewWorkflowStore(),
	}
	f.keys = memory.NewAPIKeyStore(f.users)
	u := &user.User{ID: domain.NewID(), Username: "owner-" + domain.NewID()[:8], Role: user.RoleEditor, PasswordHash: "x", CreatedAt: start, UpdatedAt: start}
	if err := f.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	f.owner = u.ID
	f.janitor = retention.New(retention.Deps{
		Lock: f.lock, Sessions: f.sessions, Keys: f.keys, Audit: f.audit,
		Executions: f.workflows.Executions(), Clock: f.clock,
	}, p)
	return f
}

func (f *fixture) pass(t *testing.T) retention.Report {
	t.Helper()
	r, err := f.janitor.Pass(context.Background())
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	return r
}

func (f *fixture) exists(t *testing.T, what string, get func() error) bool {
	t.Helper()
	switch err := get(); {
	case err == nil:
		return true
	case errors.Is(err, domain.ErrNotFound):
		return false
	default:
		t.Fatalf("%s: %v", what, err)
		return false
	}
}

func (f *fixture) session(t *testing.T, at time.Time) string {
	t.Helper()
	s := session.Session{ID: domain.NewID(), UserID: f.owner, CreatedAt: at, LastRefreshedAt: at}
	if err := f.sessions.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (f *fixture) hasSession(t *testing.T, id string) bool {
	return f.exists(t, "session", func() error { _, err := f.sessions.Get(context.Background(), id); return err })
}

func TestPassKeepsLiveAndRecentDataAndDeletesWhatOutlivedItsRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, policy)

	ended := f.session(t, start)
	if err := f.sessions.End(ctx, ended, start); err != nil {
		t.Fatal(err)
	}
	live := f.session(t, start) // refreshed every 30 minutes below
	idle := f.session(t, start) // never refreshed, never ended

	revoked := apikey.Key{ID: domain.NewID(), OwnerID: f.owner, Name: "k", Prefix: "m9m_sk_abc", Digest: "d1", CreatedAt: start.Add(-time.Hour)}
	working := revoked
	working.ID, working.Digest = domain.NewID(), "d2"
	revokedAt := start
	revoked.RevokedAt = &revokedAt
	for _, k := range []apikey.Key{revoked, working} {
		if err := f.keys.Create(ctx, k, 0); err != nil {
			t.Fatal(err)
		}
	}
	event := audit.Event{ID: domain.NewID(), Time: start, Action: audit.ActionLogin, Outcome: audit.OutcomeSuccess}
	if err := f.audit.Insert(ctx, []audit.Event{event}); err != nil {
		t.Fatal(err)
	}
	wf := &workflow.Workflow{ID: domain.NewID(), Name: "w", OwnerID: f.owner, CreatedAt: start, UpdatedAt: start}
	if err := f.workflows.Create(ctx, wf); err != nil {
		t.Fatal(err)
	}
	delivery := &workflow.Execution{ID: domain.NewID(), WorkflowID: wf.ID, ReceivedAt: start, Body: []byte(`{}`)}
	if err := f.workflows.Executions().Create(ctx, delivery); err != nil {
		t.Fatal(err)
	}
	executions := func() int {
		list, _, err := f.workflows.Executions().ListByWorkflow(ctx, wf.ID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	events := func() int {
		p, err := f.audit.List(ctx, audit.Query{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Events)
	}
	key := func(id string) bool {
		return f.exists(t, "key", func() error { _, err := f.keys.Get(ctx, id); return err })
	}

	// Advance in 30-minute steps for three days; the live session is
	// refreshed at every step and must never go.
	var total retention.Counts
	for step := 1; step <= 6*24; step++ {
		f.clock.Advance(30 * time.Minute)
		if err := f.sessions.Touch(ctx, live, f.clock.Now()); err != nil {
			t.Fatalf("step %d: live session touched: %v", step, err)
		}
		r := f.pass(t)
		total.Sessions += r.Sessions
		total.APIKeys += r.APIKeys
		total.AuditEvents += r.AuditEvents
		total.Executions += r.Executions
		age := f.clock.Now().Sub(start)

		// The delivery lives exactly its 12 h.
		if got, want := executions(), b2i(age <= policy.Executions); got != want {
			t.Fatalf("at +%s: %d executions, want %d", age, got, want)
		}
		// The ended session and the revoked key live their 24 h.
		if got, want := f.hasSession(t, ended), age <= policy.Sessions; got != want {
			t.Fatalf("at +%s: ended session kept = %v, want %v", age, got, want)
		}
		if got, want := key(revoked.ID), age <= policy.Sessions; got != want {
			t.Fatalf("at +%s: revoked key kept = %v, want %v", age, got, want)
		}
		// The idle session is expired once its last token is (1 h), then kept 24 h.
		if got, want := f.hasSession(t, idle), age <= policy.TokenLifetime+policy.Sessions; got != want {
			t.Fatalf("at +%s: idle session kept = %v, want %v", age, got, want)
		}
		// The audit event lives its 48 h.
		if got, want := events(), b2i(age <= policy.AuditEvents); got != want {
			t.Fatalf("at +%s: %d audit events, want %d", age, got, want)
		}
		if !f.hasSession(t, live) || !key(working.ID) {
			t.Fatalf("at +%s: live data was deleted", age)
		}
	}
	if want := (retention.Counts{Sessions: 2, APIKeys: 1, AuditEvents: 1, Executions: 1}); total != want {
		t.Fatalf("counts over three days = %+v, want %+v", total, want)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPassDeletesABacklogInBatches(t *testing.T) {
	t.Parallel()
	p := policy
	p.BatchSize = 3
	f := newFixture(t, p)
	var events []audit.Event
	for i := range 10 {
		events = append(events, audit.Event{ID: domain.NewID(), Time: start.Add(time.Duration(i) * time.Second), Action: audit.ActionLogin, Outcome: audit.OutcomeSuccess})
	}
	if err := f.audit.Insert(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(p.AuditEvents + time.Minute)
	r := f.pass(t)
	if r.AuditEvents != 10 || r.Total() != 10 {
		t.Fatalf("report = %+v, want 10 audit events deleted", r)
	}
	if want := f.clock.Now().Add(-p.AuditEvents); !r.AuditEventsBefore.Equal(want) {
		t.Fatalf("audit cutoff = %v, want %v", r.AuditEventsBefore, want)
	}
}

func TestPassIsSkippedWhileAnotherInstanceHoldsTheLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policy)
	ended := f.session(t, start)
	if err := f.sessions.End(context.Background(), ended, start); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * 24 * time.Hour)
	release, ok, err := f.lock.TryAcquire(context.Background())
	if err != nil || !ok {
		t.Fatalf("take the lock: %v %v", ok, err)
	}
	if r := f.pass(t); !r.Skipped || r.Total() != 0 {
		t.Fatalf("pass while the lock is held = %+v, want skipped and nothing deleted", r)
	}
	if !f.hasSession(t, ended) {
		t.Fatal("a skipped pass deleted a session")
	}
	release()
	if r := f.pass(t); r.Skipped || r.Sessions != 1 {
		t.Fatalf("pass after release = %+v, want one session deleted", r)
	}
	if _, ok, _ := f.lock.TryAcquire(context.Background()); !ok {
		t.Fatal("the pass did not release the lock")
	}
}

// failingAudit is an audit purger whose store is down.
type failingAudit struct{}

func (failingAudit) PurgeAuditEvents(context.Context, time.Time, int) (int, error) {
	return 0, domain.Unavailable("postgres", errors.New("connection refused"))
}

func TestAFailingKindDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, policy)
	ended := f.session(t, start)
	if err := f.sessions.End(context.Background(), ended, start); err != nil {
		t.Fatal(err)
	}
	j := retention.New(retention.Deps{
		Lock: f.lock, Sessions: f.sessions, Keys: f.keys, Audit: failingAudit{},
		Executions: f.workflows.Executions(), Clock: f.clock,
	}, policy)
	f.clock.Advance(30 * 24 * time.Hour)
	r, err := j.Pass(context.Background())
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("error = %v, want the audit store's ErrUnavailable", err)
	}
	if r.Sessions != 1 {
		t.Fatalf("report = %+v, want the session deleted despite the audit failure", r)
	}
	if _, ok, _ := f.lock.TryAcquire(context.Background()); !ok {
		t.Fatal("a failed pass kept the lock")
	}
}
