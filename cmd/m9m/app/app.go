// Package app is m9m's composition root: which modules make the service and
// how configuration reaches each of them. main and the end-to-end tests both
// build the service from here, so they run the same wiring.
package app

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/jmoiron/sqlx"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/log"
	"github.com/m9m/auth/infra/postgres"
	"github.com/m9m/auth/infra/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Options returns the whole service for cfg. extra options come last, so
// tests can fx.Decorate a dependency (a fake clock, cheap hashing).
func Options(cfg *config.Config, extra ...fx.Option) fx.Option {
	return fx.Options(
		supplySections(cfg),
		log.Module,
		postgres.Module,
		redis.Module,
		AuditModule,
		APIKeysModule,
		IdentityModule,
		RevocationModule,
		EdgeModule,
		GateModule,
		WorkflowsModule,
		RetentionModule,
		fx.Provide(
			fx.Annotate(func() SystemClock { return SystemClock{} }, fx.As(new(port.Clock))),
			newChain,
			newHTTPSettings,
			readinessChecks,
		),
		fx.Provide(httpapi.New),
		fx.Invoke(func(*httpapi.Server) {}),
		fx.Options(extra...),
	)
}

// New builds the fx application for cfg.
func New(cfg *config.Config, extra ...fx.Option) *fx.App {
	return fx.New(Options(cfg, extra...))
}

// supplySections hands each component only its own section of the config.
func supplySections(cfg *config.Config) fx.Option {
	return fx.Supply(
		cfg.Server,
		cfg.Database,
		cfg.Redis,
		cfg.Log,
		cfg.Security.JWT,
		cfg.Security.APIKeys,
		cfg.Security.BasicAuth,
		cfg.Security.CORS,
		cfg.Security.PasswordHash,
		cfg.Security.LoginThrottle,
		cfg.Security.BootstrapAdmin,
		cfg.Performance.RateLimit,
		cfg.Performance.ConnectionPool,
		cfg.Monitoring.Metrics,
		cfg.Audit,
		cfg.Retention,
		webhookEncryptionKey(cfg.Security.WebhookEncryptionKey),
		previousWebhookKeys(cfg.Security.PreviousWebhookEncryptionKeys),
	)
}

type chainParams struct {
	fx.In
	JWT    config.JWTConfig
	Keys   config.APIKeysConfig
	Basic  config.BasicAuthConfig
	Bearer authn.Authenticator `name:"bearer" optional:"true"`
	APIKey authn.Authenticator `name:"apikey" optional:"true"`
	Plain  authn.Authenticator `name:"basic" optional:"true"`
}

// newChain assembles the authenticators of the enabled methods; a disabled
// method's credentials get 401 (contract §3).
func newChain(p chainParams) *authn.Chain {
	c := &authn.Chain{}
	if p.JWT.Enabled {
		c.Bearer = p.Bearer
	}
	if p.Keys.Enabled {
		c.APIKey = p.APIKey
	}
	if p.Basic.Enabled {
		c.Basic = p.Plain
	}
	return c
}

func newHTTPSettings(lc fx.Lifecycle, srv config.ServerConfig, cors config.CORSConfig, clock port.Clock, log *zap.Logger) (httpapi.Settings, error) {
	prefixes, err := srv.TrustedProxyPrefixes()
	if err != nil {
		return httpapi.Settings{}, err
	}
	nets := make([]*net.IPNet, 0, len(prefixes))
	for _, p := range prefixes {
		_, n, err := net.ParseCIDR(p.String())
		if err != nil {
			return httpapi.Settings{}, fmt.Errorf("server.trusted_proxies: %w", err)
		}
		nets = append(nets, n)
	}
	st := httpapi.Settings{
		Addr:              srv.Addr(),
		ReadTimeout:       srv.ReadTimeout,
		ReadHeaderTimeout: srv.ReadHeaderTimeout,
		WriteTimeout:      srv.WriteTimeout,
		IdleTimeout:       srv.IdleTimeout,
		ShutdownTimeout:   srv.ShutdownTimeout,
		MaxBodyBytes:      int64(srv.MaxBodyBytes),
		TrustedProxies:    nets,
	}
	if st.TLS, err = newTLS(lc, srv.TLS, clock, log); err != nil {
		return httpapi.Settings{}, err
	}
	if st.CORS, err = newCORS(cors); err != nil {
		return httpapi.Settings{}, err
	}
	return st, nil
}

type readinessOut struct {
	fx.Out
	Checks []httpapi.ReadinessCheck `group:"readiness,flatten"`
}

func readinessChecks(db *sqlx.DB, rdb goredis.UniversalClient) readinessOut {
	return readinessOut{Checks: []httpapi.ReadinessCheck{
		{Name: "postgres", Check: db.PingContext},
		{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}}
}
