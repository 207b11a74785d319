package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestUserStore(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.UserStore(t, func(*testing.T) (port.UserStore, port.UserLister) {
		s := sqlite.NewUserStore(db)
		return s, s
	})
}

func TestSessionStore(t *testing.T) {
	db := testenv.SQLite(t)
	users := sqlite.NewUserStore(db)
	porttest.SessionStore(t, func(t *testing.T) (porttest.Sessions, func(string)) {
		seed := func(id string) {
			t.Helper()
			if err := users.Create(context.Background(), seedUser(id)); err != nil {
				t.Fatalf("seed user %s: %v", id, err)
			}
		}
		return sqlite.NewSessionStore(db), seed
	})
}

func TestAPIKeyStore(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.APIKeyStore(t, func(*testing.T) porttest.APIKeyStores {
		keys := sqlite.NewAPIKeyStore(db)
		return porttest.APIKeyStores{Keys: keys, Auth: keys, Users: sqlite.NewUserStore(db)}
	})
}

func TestWorkflowStore(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.WorkflowStore(t, func(*testing.T) porttest.WorkflowStores { return workflowStores(db) })
}

// workflowStores are the workflow suites' stores over db.
func workflowStores(db *sqlite.DB) porttest.WorkflowStores {
	s, users := sqlite.NewWorkflowStore(db), sqlite.NewUserStore(db)
	return porttest.WorkflowStores{
		Workflows: s, Lister: s, Executions: sqlite.NewExecutionStore(db),
		NewOwner: func(t *testing.T) string {
			u := seedUser(domain.NewID())
			if err := users.Create(context.Background(), u); err != nil {
				t.Fatalf("seed owner: %v", err)
			}
			return u.ID
		},
	}
}

func TestAuditStore(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.AuditStore(t, func(*testing.T) port.AuditStore { return sqlite.NewAuditStore(db) })
}

func TestKeptState(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.KeptState(t, func(*testing.T) port.KeptState { return sqlite.NewKeptState(db) })
}

func seedUser(id string) *user.User {
	now := time.Now().UTC()
	return &user.User{
		ID: id, Username: "seed-" + domain.NewID()[:16], Role: user.RoleEditor,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", CreatedAt: now, UpdatedAt: now,
	}
}

func TestRevocationRecord(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.RevocationRecord(t, func(*testing.T) (port.RevocationRecord, func() port.RevocationRecord) {
		return sqlite.NewRevocationRecord(db), func() port.RevocationRecord { return sqlite.NewRevocationRecord(db) }
	})
}

func TestUserRemover(t *testing.T) {
	db := testenv.SQLite(t)
	porttest.UserRemover(t, func(*testing.T) porttest.UserRemoverStores {
		w := sqlite.NewWorkflowStore(db)
		return porttest.UserRemoverStores{
			Remover: sqlite.NewUserRemover(db), Users: sqlite.NewUserStore(db),
			Workflows: w, Lister: w, Executions: sqlite.NewExecutionStore(db), Audit: sqlite.NewAuditStore(db),
		}
	})
}
