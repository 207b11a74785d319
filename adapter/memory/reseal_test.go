package memory_test

import (
	"testing"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
)

func TestSealedSecretStore(t *testing.T) {
	porttest.SealedSecretStore(t, func(*testing.T) (porttest.WorkflowStores, port.SealedSecretStore) {
		s := memory.NewWorkflowStore()
		return porttest.WorkflowStores{
			Workflows: s, Lister: s, Executions: s.Executions(),
			NewOwner: func(*testing.T) string { return domain.NewID() },
		}, s
	})
}
