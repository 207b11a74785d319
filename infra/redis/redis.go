// Package redis builds the go-redis UniversalClient (single node, Sentinel
// or Cluster) with an fx lifecycle.
package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/dial"
)

// Prefix is the key prefix every Redis adapter writes under.
type Prefix string

// NewClient builds the client: Addrs (Sentinel when MasterName is set,
// Cluster otherwise) or URL for a single node.
func NewClient(cfg config.RedisConfig) (goredis.UniversalClient, error) {
	return newClient(cfg, nil)
}

// newClient is NewClient dialing with d (nil: the driver's own dialer).
func newClient(cfg config.RedisConfig, d dial.Dialer) (goredis.UniversalClient, error) {
	if len(cfg.Addrs) > 0 {
		return goredis.NewUniversalClient(&goredis.UniversalOptions{
			Dialer:             d,
			Addrs:              cfg.Addrs,
			MasterName:         cfg.MasterName,
			Password:           cfg.Password,
			DialTimeout:        dialTimeout,
			ReadTimeout:        ioTimeout,
			WriteTimeout:       ioTimeout,
			MaxRetries:         maxRetries,
			DialerRetries:      dialerRetries,
			DialerRetryTimeout: dialerRetryWait,
			// Honour request deadlines on socket reads too, so a Redis that
			// stops answering (rather than refusing) cannot stall a request.
			ContextTimeoutEnabled: true,
		}), nil
	}
	opts, err := goredis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis.url: invalid Redis URL")
	}
	if cfg.Password != "" && opts.Password == "" {
		opts.Password = cfg.Password
	}
	opts.DialTimeout = dialTimeout
	opts.ReadTimeout = ioTimeout
	opts.WriteTimeout = ioTimeout
	opts.MaxRetries = maxRetries
	opts.DialerRetries = dialerRetries
	opts.DialerRetryTimeout = dialerRetryWait
	opts.ContextTimeoutEnabled = true
	if d != nil {
		opts.Dialer = d
	}
	return goredis.NewClient(opts), nil
}

// Fail fast: when Redis is down a JWT request should get its 503 in about a
// second, not after go-redis's default 5 dial retries and 3 command retries.
const (
	dialTimeout     = time.Second
	ioTimeout       = time.Second
	maxRetries      = 1
	dialerRetries   = 1
	dialerRetryWait = 10 * time.Millisecond
)

// Params are the client's fx dependencies.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    config.RedisConfig
	Log       *zap.Logger
	Dialer    dial.Dialer `optional:"true"`
}

// New builds the client and closes it on stop. Start does not fail when
// Redis is down: JWT requests then answer 503 and /ready says so, while API
// keys and basic auth keep working (contract §4).
func New(p Params) (goredis.UniversalClient, error) {
	c, err := newClient(p.Config, p.Dialer)
	if err != nil {
		return nil, err
	}
	routeClientLog(p.Log)
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := c.Ping(ctx).Err(); err != nil {
				p.Log.Warn("redis unreachable at start; JWT requests will answer 503 until it returns", zap.Error(err))
			}
			return nil
		},
		OnStop: func(context.Context) error { return c.Close() },
	})
	return c, nil
}

// Module provides goredis.UniversalClient and the key Prefix.
var Module = fx.Module("redis",
	fx.Provide(New),
	fx.Provide(func(cfg config.RedisConfig) Prefix { return Prefix(cfg.KeyPrefix) }),
)
