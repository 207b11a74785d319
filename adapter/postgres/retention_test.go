package postgres_test

import (
	"testing"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestRetention(t *testing.T) {
	db := testenv.DB(t)
	porttest.Retention(t, func(*testing.T) porttest.RetentionStores {
		sessions, keys, audit, workflows, executions := postgres.NewSessionStore(db), postgres.NewAPIKeyStore(db),
			postgres.NewAuditStore(db), postgres.NewWorkflowStore(db), postgres.NewExecutionStore(db)
		return porttest.RetentionStores{
			Users: postgres.NewUserStore(db), Sessions: sessions, SessionPurger: sessions, Keys: keys, KeyPurger: keys,
			Audit: audit, AuditPurger: audit, Workflows: workflows, Executions: executions, ExecutionPurger: executions,
		}
	})
}

func TestJanitorLock(t *testing.T) {
	db := testenv.DB(t)
	porttest.JanitorLock(t, func(*testing.T) (port.JanitorLock, port.JanitorLock) {
		// Two handles on one database, as two instances have.
		return postgres.NewJanitorLock(db), postgres.NewJanitorLock(db)
	})
}
