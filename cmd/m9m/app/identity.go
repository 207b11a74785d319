package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/crypto"
	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/adapter/metrics"
	redisadapter "github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
	"github.com/m9m/auth/usecase/users"
)

// IdentityModule wires users, sessions and tokens: the password hasher, the
// JWT service, the Postgres user and session stores, the Redis denylist and
// login throttle, the session and user-administration use cases, the Bearer
// authenticator, their routes, and the bootstrap admin at start.
var IdentityModule = fx.Options(
	fx.Provide(
		NewPasswordHasher,
		newTokenService,
		newAuthService,
		newUsersService,
		fx.Annotate(newBearerAuthenticator, fx.As(new(authn.Authenticator)), fx.ResultTags(`name:"bearer"`)),
		fx.Annotate(newAuthRoutes, fx.ResultTags(`group:"routes"`)),
		fx.Annotate(httpapi.UsersRoutes, fx.ResultTags(`group:"routes"`)),
		fx.Annotate(httpapi.ConsoleRoutes, fx.ResultTags(`group:"routes"`)),
	),
	fx.Invoke(bootstrapAdmin),
)

// hasherConfig maps security.password_hash to the hasher's configuration.
func hasherConfig(cfg config.PasswordHashConfig) crypto.HasherConfig {
	return crypto.HasherConfig{
		Params: crypto.Argon2Params{
			MemoryKiB:   uint32(cfg.MemoryKiB),  //nolint:gosec // validated by infra/config
			Iterations:  uint32(cfg.Iterations), //nolint:gosec // validated by infra/config
			Parallelism: uint8(cfg.Parallelism), //nolint:gosec // validated by infra/config
		},
		MaxConcurrent: cfg.EffectiveMaxConcurrent(),
		QueueTimeout:  cfg.QueueTimeout,
	}
}

// NewPasswordHasher returns the argon2id hasher configured by
// security.password_hash; `m9m user create` uses it too, so users created
// from the command line hash exactly as the server would.
func NewPasswordHasher(cfg config.PasswordHashConfig) port.PasswordHasher {
	return crypto.NewArgon2Hasher(hasherConfig(cfg))
}

type tokenServiceOut struct {
	fx.Out
	Issuer   port.TokenIssuer
	Verifier port.TokenVerifier
}

// newTokenService builds the JWT service from security.jwt; each previous
// secret is named by its derived kid (jwt.KIDFor), so rotation needs no
// IDs. With JWT disabled there is no secret: every token is refused.
//
// It logs the key ids it signs and verifies with (one-way fingerprints,
// never the secrets), so each phase of a rotation can be checked on every
// instance: all verify the new kid, then all sign with it, then the old kid
// is gone.
func newTokenService(cfg config.JWTConfig, clock port.Clock, log *zap.Logger) (tokenServiceOut, error) {
	if !cfg.Enabled {
		return tokenServiceOut{Issuer: disabledTokens{}, Verifier: disabledTokens{}}, nil
	}
	prev := make([]jwt.Secret, 0, len(cfg.PreviousSecrets))
	verify := []string{jwt.KIDFor([]byte(cfg.Secret))}
	for _, s := range cfg.PreviousSecrets {
		prev = append(prev, jwt.Secret{KID: jwt.KIDFor([]byte(s)), Key: []byte(s)})
		verify = append(verify, jwt.KIDFor([]byte(s)))
	}
	svc, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: []byte(cfg.Secret)}, Previous: prev, Leeway: cfg.Leeway}, clock)
	if err != nil {
		return tokenServiceOut{}, fmt.Errorf("security.jwt: %w", err)
	}
	log.Info("jwt keys", zap.String("sign_kid", verify[0]), zap.Strings("verify_kids", verify))
	return tokenServiceOut{Issuer: svc, Verifier: svc}, nil
}

// disabledTokens stands in for the JWT service when security.jwt.enabled is
// false: it issues nothing and verifies nothing.
type disabledTokens struct{}

func (disabledTokens) Issue(session.Claims) (string, error) {
	return "", domain.Internal(errors.New("jwt is disabled"))
}

func (disabledTokens) Verify(string) (session.Claims, error) {
	return session.Claims{}, domain.ErrUnauthenticated
}

// authSettings maps security.jwt to the session use cases' settings. The
// leeway is the one the verifier really applies (0 means its default), or
// denials would end before the tokens they deny.
func authSettings(cfg config.JWTConfig) auth.Settings {
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = jwt.DefaultLeeway
	}
	return auth.Settings{TokenTTL: cfg.Expiration, Leeway: leeway, RefreshGrace: cfg.RefreshGrace, MaxSession: cfg.MaxSession}
}

type authServiceParams struct {
	fx.In
	Config   config.JWTConfig
	Users    port.UserStore
	Sessions port.SessionStore
	Ender    port.SessionEnder
	Hasher   port.PasswordHasher
	Issuer   port.TokenIssuer
	Verifier port.TokenVerifier
	Denylist port.TokenDenylist
	Throttle port.LoginThrottle
	Audit    port.AuditLog
	Clock    port.Clock
	Stats    *metrics.Metrics
}

func newAuthService(p authServiceParams) *auth.Service {
	return auth.New(auth.Deps{
		Users: countUsers(p.Users, p.Stats), Sessions: countSessions(p.Sessions, p.Stats), Ender: p.Ender, Hasher: p.Hasher,
		Issuer: p.Issuer, Verifier: p.Verifier, Denylist: p.Denylist, Throttle: p.Throttle,
		Audit: p.Audit, Clock: p.Clock,
	}, authSettings(p.Config))
}

type usersServiceParams struct {
	fx.In
	Users   port.UserStore
	Lister  port.UserLister
	Remover port.UserRemover
	Hasher  port.PasswordHasher
	Auth    *auth.Service
	Keys    port.APIKeyStore
	Audit   port.AuditLog
	Clock   port.Clock
	Stats   *metrics.Metrics
	// Invalidator: see apiKeyServiceParams.
	Invalidator port.KeyInvalidator `optional:"true"`
}

func newUsersService(p usersServiceParams) *users.Service {
	return users.New(users.Deps{
		Users: countUsers(p.Users, p.Stats), Lister: p.Lister, Remover: countRemover(p.Remover, p.Stats), Hasher: p.Hasher,
		Revoker: p.Auth.Revoker(), Keys: p.Keys, Audit: p.Audit, Clock: p.Clock, Invalidator: p.Invalidator,
	})
}

// newAuthRoutes serves the session endpoints; console logins mark their
// browser with a device cookie keyed from the JWT secrets.
func newAuthRoutes(svc *auth.Service, chain *authn.Chain, cfg config.JWTConfig, clock port.Clock) httpapi.Routes {
	if !cfg.Enabled {
		return httpapi.AuthRoutes(svc, chain, false)
	}
	prev := make([][]byte, 0, len(cfg.PreviousSecrets))
	for _, s := range cfg.PreviousSecrets {
		prev = append(prev, []byte(s))
	}
	devices := httpapi.NewDeviceCookies([]byte(cfg.Secret), prev, 0, clock.Now)
	return httpapi.AuthRoutes(svc, chain, true, httpapi.WithDeviceCookies(devices))
}

// newLoginThrottle is the Redis login throttle of security.login_throttle,
// or none when it is disabled.
func newLoginThrottle(rdb goredis.UniversalClient, prefix redis.Prefix, cfg config.LoginThrottleConfig, clock port.Clock) port.LoginThrottle {
	if !cfg.Enabled {
		return noThrottle{}
	}
	return redisadapter.NewLoginThrottle(rdb, string(prefix), throttleLimits(cfg), clock)
}

// throttleLimits are the limits of security.login_throttle, the same for
// the Redis and the in-process throttle.
func throttleLimits(cfg config.LoginThrottleConfig) port.ThrottleLimits {
	return port.ThrottleLimits{
		MaxPerUser: cfg.MaxFailuresPerUser, MaxPerIP: cfg.MaxFailuresPerIP, Window: cfg.Window,
		MaxPerUsername: cfg.MaxFailuresPerUsername, KnownClientTTL: cfg.KnownClientTTL,
	}
}

// noThrottle is the login throttle when security.login_throttle.enabled is
// false.
type noThrottle struct{}

func (noThrottle) Check(context.Context, port.LoginAttempt) (time.Duration, error) { return 0, nil }
func (noThrottle) Fail(context.Context, port.LoginAttempt) (time.Duration, error)  { return 0, nil }
func (noThrottle) Reserve(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, nil
}
func (noThrottle) Forgive(context.Context, port.LoginAttempt) error    { return nil }
func (noThrottle) Release(context.Context, port.LoginAttempt) error    { return nil }
func (noThrottle) Remember(context.Context, ...port.KnownClient) error { return nil }

// bootstrapAdmin creates security.bootstrap_admin at start while no user
// exists. Its hook is appended after the Postgres pool's (this function
// depends on the pool), so migrations have run by then; and before the HTTP
// server's (IdentityModule comes before the server in app.Options), so no
// request is served before the admin exists.
func bootstrapAdmin(lc fx.Lifecycle, _ storesReady, cfg config.BootstrapAdminConfig, svc *users.Service, log *zap.Logger) {
	if !cfg.Enabled() {
		return
	}
	lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
		created, err := svc.Bootstrap(ctx, cfg.Username, cfg.Password)
		if err != nil {
			return err
		}
		if created {
			log.Info("bootstrap admin created", zap.String("username", cfg.Username))
			return nil
		}
		// Say so, or an operator would believe the configured password
		// works (a second deployment on a database that has users).
		log.Info("bootstrap admin not created: the database already has users, and security.bootstrap_admin only creates the first one; "+
			"unless this deployment created that user, the configured password is not in effect (existing users keep theirs). To add an admin: "+
			"m9m user create --username NAME --role admin --password-stdin; an admin resets a password with PATCH /api/v1/users/{id}",
			zap.String("username", cfg.Username))
		return nil
	}})
}
