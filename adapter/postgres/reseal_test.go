package postgres_test

import (
	"context"
	"testing"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestSealedSecretStore(t *testing.T) {
	db := testenv.DB(t)
	users := postgres.NewUserStore(db)
	porttest.SealedSecretStore(t, func(*testing.T) (porttest.WorkflowStores, port.SealedSecretStore) {
		s := postgres.NewWorkflowStore(db)
		return porttest.WorkflowStores{
			Workflows: s, Lister: s, Executions: postgres.NewExecutionStore(db),
			NewOwner: func(t *testing.T) string {
				t.Helper()
				u := newUser(domain.NewID())
				if err := users.Create(context.Background(), u); err != nil {
					t.Fatal(err)
				}
				return u.ID
			},
		}, s
	})
}
