package memory_test

import (
	"testing"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
)

func TestWorkflowStore(t *testing.T) {
	porttest.WorkflowStore(t, func(*testing.T) porttest.WorkflowStores {
		s := memory.NewWorkflowStore()
		return porttest.WorkflowStores{
			Workflows:  s,
			Lister:     s,
			Executions: s.Executions(),
			NewOwner:   func(*testing.T) string { return domain.NewID() },
		}
	})
}

func TestUserRemover(t *testing.T) {
	porttest.UserRemover(t, func(*testing.T) porttest.UserRemoverStores {
		users, w, trail := memory.NewUserStore(), memory.NewWorkflowStore(), memory.NewAuditStore()
		users.AttachAudit(trail)
		return porttest.UserRemoverStores{
			Remover: memory.NewUserRemover(users, w), Users: users,
			Workflows: w, Lister: w, Executions: w.Executions(), Audit: trail,
		}
	})
}

func TestReplayGuard(t *testing.T) {
	porttest.WebhookReplayGuard(t, func(_ *testing.T, clock *memory.Clock) port.WebhookReplayGuard {
		return memory.NewReplayGuard(clock)
	})
}
