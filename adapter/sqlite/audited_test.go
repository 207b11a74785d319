package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestAuditedWrites(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.AuditedWrites(t, func(*testing.T) porttest.AuditedStores {
		return porttest.AuditedStores{
			Users:     sqlite.NewUserStore(db),
			Sessions:  sqlite.NewSessionStore(db),
			Keys:      sqlite.NewAPIKeyStore(db),
			Workflows: sqlite.NewWorkflowStore(db),
			Audit:     sqlite.NewAuditStore(db),
		}
	})
}

func TestRetention(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.Retention(t, func(*testing.T) porttest.RetentionStores {
		users, sessions, keys := sqlite.NewUserStore(db), sqlite.NewSessionStore(db), sqlite.NewAPIKeyStore(db)
		auditStore, executions := sqlite.NewAuditStore(db), sqlite.NewExecutionStore(db)
		return porttest.RetentionStores{
			Users: users, Sessions: sessions, SessionPurger: sessions, Keys: keys, KeyPurger: keys,
			Audit: auditStore, AuditPurger: auditStore, Workflows: sqlite.NewWorkflowStore(db),
			Executions: executions, ExecutionPurger: executions,
		}
	})
}

// TestJanitorLock: the embedded mode's janitor lock is the process's own
// (the file lock keeps other processes out), the memory one, shared by
// every pass of the process.
func TestJanitorLock(t *testing.T) {
	porttest.JanitorLock(t, func(*testing.T) (port.JanitorLock, port.JanitorLock) {
		l := memory.NewJanitorLock()
		return l, l
	})
}

func TestSealedSecretStore(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.SealedSecretStore(t, func(*testing.T) (porttest.WorkflowStores, port.SealedSecretStore) {
		ws := workflowStores(db)
		return ws, ws.Workflows.(*sqlite.WorkflowStore)
	})
}

// TestAuditedWriteRollsBackWhenItsEventFails: a change and its events are
// one transaction, so an event the file refuses (a trigger refuses one
// action no other test uses) undoes the change it records, for a write of
// each kind (insert, update, a statement of one row, rotation).
func TestAuditedWriteRollsBackWhenItsEventFails(t *testing.T) {
	ctx := context.Background()
	db := testenv.SQLite(t)
	if _, err := db.W.ExecContext(ctx, `CREATE TRIGGER refuse_audit_event BEFORE INSERT ON audit_events
		WHEN NEW.action = 'test.refused' BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END`); err != nil {
		t.Fatal(err)
	}
	refused := audit.Event{ID: domain.NewID(), Time: time.Now(), Action: "test.refused", Outcome: audit.OutcomeSuccess}
	users, sessions, keys := sqlite.NewUserStore(db), sqlite.NewSessionStore(db), sqlite.NewAPIKeyStore(db)

	u := seedUser(domain.NewID())
	if err := users.Create(ctx, u, refused); err == nil {
		t.Fatal("Create with a refused event succeeded")
	}
	if _, err := users.Get(ctx, u.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("user of a failed audited create: Get = %v, want ErrNotFound", err)
	}
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Update(ctx, u.ID, func(cur *user.User) error { cur.Disabled = true; return nil }, refused); err == nil {
		t.Fatal("Update with a refused event succeeded")
	}
	if got, _ := users.Get(ctx, u.ID); got == nil || got.Disabled {
		t.Fatalf("user after a failed audited update = %+v, want it unchanged", got)
	}

	s := session.Session{ID: domain.NewID(), UserID: u.ID, CreatedAt: u.CreatedAt, LastRefreshedAt: u.CreatedAt}
	if err := sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := sessions.End(ctx, s.ID, time.Now(), refused); err == nil {
		t.Fatal("End with a refused event succeeded")
	}
	if got, _ := sessions.Get(ctx, s.ID); got == nil || !got.Active() {
		t.Fatalf("session after a failed audited end = %+v, want it active", got)
	}

	k := apikey.Key{
		ID: domain.NewID(), OwnerID: u.ID, Name: "k", Prefix: "m9m_abcd", CreatedAt: u.CreatedAt,
		Digest: "0000000000000000000000000000000000000000000000000000000000000001", Scopes: []user.Permission{},
	}
	if err := keys.Create(ctx, k, 0); err != nil {
		t.Fatal(err)
	}
	next := k
	next.ID, next.Digest = domain.NewID(), "0000000000000000000000000000000000000000000000000000000000000002"
	at := time.Now()
	if _, err := keys.Rotate(ctx, k.ID, next, 0, func(old *apikey.Key) error { old.RevokedAt = &at; return nil }, refused); err == nil {
		t.Fatal("Rotate with a refused event succeeded")
	}
	if got, _ := keys.Get(ctx, k.ID); got == nil || got.RevokedAt != nil {
		t.Fatalf("key after a failed audited rotation = %+v, want it unrevoked", got)
	}
	if _, err := keys.Get(ctx, next.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("successor of a failed audited rotation: Get = %v, want ErrNotFound", err)
	}
}
