package app

import (
	"context"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/crypto"
	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/authn"
)

// APIKeysModule wires API keys and basic auth (contract §5, §6): the
// Postgres key store, the key-management use cases and their routes (only
// when security.api_keys.enabled: a disabled method's endpoints are 404),
// the X-API-Key authenticator with its lastUsedAt recorder, and the basic
// authenticator. newChain decides which authenticators are live.
//
// The recorder's hooks are registered after the Postgres pool's (it is
// built from the store, which needs the pool) and before the HTTP server's
// (the server needs the chain, which needs the recorder), so on stop the
// server drains first, then the recorder writes what is pending, then the
// pool closes.
var APIKeysModule = fx.Options(
	fx.Provide(
		newAPIKeyService,
		newLastUsedRecorder,
		fx.Annotate(newAPIKeyAuthenticator, fx.ResultTags(`name:"apikey"`)),
		fx.Annotate(newBasicAuthenticator, fx.ResultTags(`name:"basic"`)),
		fx.Annotate(newAPIKeyRoutes, fx.ResultTags(`group:"routes"`)),
	),
)

type apiKeyServiceParams struct {
	fx.In
	Keys  port.APIKeyStore
	Users port.UserStore
	Audit port.AuditLog
	Clock port.Clock
	Cfg   config.APIKeysConfig
	Stats *metrics.Metrics
	// Invalidator is provided where instances cache API keys (issue 14);
	// without one, nothing caches them and nothing needs telling.
	Invalidator port.KeyInvalidator `optional:"true"`
}

func newAPIKeyService(p apiKeyServiceParams) *apikey.Service {
	return apikey.New(apikey.Deps{
		Keys: countKeys(p.Keys, p.Stats), Users: p.Users, Generate: crypto.NewAPIKey, Audit: p.Audit, Clock: p.Clock,
		Invalidator: p.Invalidator,
	}, apikey.Settings{MaxPerUser: p.Cfg.MaxPerUser})
}

// newLastUsedRecorder starts the lastUsedAt flush loop with the app and
// writes what is pending on stop.
func newLastUsedRecorder(lc fx.Lifecycle, store port.APIKeyAuthStore, cfg config.APIKeysConfig, log *zap.Logger) *apikey.LastUsed {
	l := log.Named("apikey")
	r := apikey.NewLastUsed(store, cfg.LastUsedInterval, func(err error) {
		l.Warn("writing API key lastUsedAt failed; will retry", zap.Error(err))
	})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { r.Start(); return nil },
		OnStop: func(ctx context.Context) error {
			if err := r.Stop(ctx); err != nil {
				l.Warn("writing API key lastUsedAt at shutdown failed", zap.Error(err), zap.Int("pending", r.Pending()))
			}
			return nil
		},
	})
	return r
}

// newAPIKeyAuthenticator reads grants through the mode's cache (keycache.go).
func newAPIKeyAuthenticator(grants *apikey.Cache, clock port.Clock, usage *apikey.LastUsed) authn.Authenticator {
	return apikey.NewAuthenticator(grants, clock, usage)
}

type basicParams struct {
	fx.In
	Cfg      config.BasicAuthConfig
	Users    port.UserStore
	Throttle port.LoginThrottle
	Audit    port.AuditLog
	Clock    port.Clock
	Log      *zap.Logger
}

// newBasicAuthenticator builds the basic authenticator from
// security.basic_auth. A throttle failure (Redis down) is logged and the
// request goes on: basic auth keeps working without Redis, like API keys.
func newBasicAuthenticator(p basicParams) authn.Authenticator {
	l := p.Log.Named("basic_auth")
	return authn.NewBasic(authn.BasicConfig{Username: p.Cfg.Username, Password: p.Cfg.Password}, authn.BasicDeps{
		Users: p.Users, Throttle: p.Throttle, Audit: p.Audit, Clock: p.Clock,
		OnError: func(err error) {
			l.Error("login throttle unavailable for basic auth; allowing the attempt", zap.Error(err))
		},
	})
}

// newAPIKeyRoutes declares the key endpoints only while API keys are enabled.
func newAPIKeyRoutes(svc *apikey.Service, cfg config.APIKeysConfig) httpapi.Routes {
	if !cfg.Enabled {
		return nil
	}
	return httpapi.APIKeyRoutes(svc)
}
