package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestAuditedWrites(t *testing.T) {
	db := testenv.DB(t)
	porttest.AuditedWrites(t, func(*testing.T) porttest.AuditedStores {
		return porttest.AuditedStores{
			Users:     postgres.NewUserStore(db),
			Sessions:  postgres.NewSessionStore(db),
			Keys:      postgres.NewAPIKeyStore(db),
			Workflows: postgres.NewWorkflowStore(db),
			Audit:     postgres.NewAuditStore(db),
		}
	})
}

// TestAuditedWriteRollsBackWhenItsEventFails: the change and its event are
// one transaction, so an event Postgres refuses (here a trigger refuses one
// action, which no other test uses) undoes the change it records. The
// contract suite cannot provoke this: sanitized events always fit.
func TestAuditedWriteRollsBackWhenItsEventFails(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	db.MustExecContext(ctx, `
		CREATE OR REPLACE FUNCTION refuse_audit_event() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'refused by test trigger'; END $$;
		CREATE OR REPLACE TRIGGER refuse_audit_event BEFORE INSERT ON audit_events
		FOR EACH ROW WHEN (NEW.action = 'test.refused') EXECUTE FUNCTION refuse_audit_event();`)
	t.Cleanup(func() { db.MustExecContext(ctx, `DROP TRIGGER IF EXISTS refuse_audit_event ON audit_events`) })
	refused := audit.Event{ID: domain.NewID(), Time: time.Now(), Action: "test.refused", Outcome: audit.OutcomeSuccess}

	users, sessions := postgres.NewUserStore(db), postgres.NewSessionStore(db)
	u := newUser(domain.NewID())
	if err := users.Create(ctx, u, refused); err == nil {
		t.Fatal("Create with a refused event succeeded")
	}
	if _, err := users.Get(ctx, u.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("user of a failed audited create: Get = %v, want ErrNotFound", err)
	}

	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err := users.Update(ctx, u.ID, func(cur *user.User) error { cur.Disabled = true; return nil }, refused)
	if err == nil {
		t.Fatal("Update with a refused event succeeded")
	}
	if got, _ := users.Get(ctx, u.ID); got == nil || got.Disabled {
		t.Fatalf("user after a failed audited update = %+v, want it unchanged", got)
	}

	s := session.Session{ID: domain.NewID(), UserID: u.ID, CreatedAt: u.CreatedAt, LastRefreshedAt: u.CreatedAt}
	if err := sessions.Create(ctx, s, refused); err == nil {
		t.Fatal("session Create with a refused event succeeded")
	}
	if _, err := sessions.Get(ctx, s.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("session of a failed audited login: Get = %v, want ErrNotFound", err)
	}
	// The prepared insert still works outside and inside a transaction afterwards.
	if err := sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := sessions.End(ctx, s.ID, time.Now(), refused); err == nil {
		t.Fatal("End with a refused event succeeded")
	}
	if got, _ := sessions.Get(ctx, s.ID); got == nil || !got.Active() {
		t.Fatalf("session after a failed audited end = %+v, want it active", got)
	}
}
