package memory_test

import (
	"testing"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
)

func TestAuditStore(t *testing.T) {
	porttest.AuditStore(t, func(*testing.T) port.AuditStore { return memory.NewAuditStore() })
}
