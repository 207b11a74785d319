package app

import "github.com/m9m/auth/infra/config"

// StorageMode names where the service keeps its state, as the start-up log
// line reports it. Today it is always Postgres (users, keys, audit, ...) plus
// Redis (revocations, rate budgets, throttles); another mode extends this.
func StorageMode(*config.Config) string {
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
