package app

import "github.com/m9m/auth/infra/config"

// StorageMode names where the service keeps its state, as the start-up log
// line reports it: "embedded" (one SQLite file, in-process revocations and
// budgets) or "postgres+redis" (the multi-instance mode).
func StorageMode(cfg *config.Config) string {
	if cfg.Database.Embedded() {
		return "embedded"
	}
	return "postgres+redis"
}

// AuthMethods lists the credential kinds the configuration enables, in the
// order the authenticator chain tries them.
func AuthMethods(cfg *config.Config) []string {
	methods := []string{}
	if cfg.Security.JWT.Enabled {
		methods = append(methods, "jwt")
	}
	if cfg.Security.APIKeys.Enabled {
		methods = append(methods, "api_key")
	}
	if cfg.Security.BasicAuth.Enabled {
		methods = append(methods, "basic")
	}
	return methods
}
