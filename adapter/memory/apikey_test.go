package memory_test

import (
	"testing"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/port/porttest"
)

func TestAPIKeyStore(t *testing.T) {
	porttest.APIKeyStore(t, func(*testing.T) porttest.APIKeyStores {
		users := memory.NewUserStore()
		keys := memory.NewAPIKeyStore(users)
		return porttest.APIKeyStores{Keys: keys, Auth: keys, Users: users}
	})
}
