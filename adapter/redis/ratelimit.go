package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/port"
)

// RateLimiter is the GCRA request budget shared by every instance: the state
// of a budget is one Redis key holding its theoretical arrival time, updated
// by one script call per request, with Redis's own clock so that instances
// whose clocks disagree still agree on the budget.
type RateLimiter struct {
	limiter *redis_rate.Limiter
	limit   redis_rate.Limit
}

var _ port.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter allowing perMinute requests a minute per
// key, of which burst may arrive at once. Keys live under prefix, so several
// deployments (or test packages) can share one Redis.
func NewRateLimiter(rdb goredis.UniversalClient, prefix string, perMinute, burst int) (*RateLimiter, error) {
	if perMinute < 1 || burst < 1 {
		return nil, fmt.Errorf("rate limiter: requests per minute and burst must be at least 1, got %d and %d", perMinute, burst)
	}
	return &RateLimiter{
		limiter: redis_rate.NewLimiter(prefixedScripter{rdb: rdb, prefix: prefix}),
		limit:   redis_rate.Limit{Rate: perMinute, Period: time.Minute, Burst: burst},
	}, nil
}

// Allow spends one unit of key's budget. A Redis failure is returned as is:
// the caller decides to fail open.
func (l *RateLimiter) Allow(ctx context.Context, key string) (port.RateDecision, error) {
	res, err := l.limiter.Allow(ctx, key, l.limit)
	if err != nil {
		return port.RateDecision{}, fmt.Errorf("rate limiter: %w", err)
	}
	return decision(res), nil
}

func decision(res *redis_rate.Result) port.RateDecision {
	d := port.RateDecision{
		Allowed:    res.Allowed > 0,
		Limit:      res.Limit.Rate,
		Remaining:  max(res.Remaining, 0),
		ResetAfter: max(res.ResetAfter, 0),
	}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d
}

// prefixedScripter hands redis_rate a client that writes every key under
// the deployment's prefix (redis_rate itself only prepends "rate:").
type prefixedScripter struct {
	rdb    goredis.UniversalClient
	prefix string
}

func (p prefixedScripter) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + k
	}
	return out
}

func (p prefixedScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.Eval(ctx, script, p.keys(keys), args...)
}

func (p prefixedScripter) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.EvalSha(ctx, sha1, p.keys(keys), args...)
}

func (p prefixedScripter) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.EvalRO(ctx, script, p.keys(keys), args...)
}

func (p prefixedScripter) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return p.rdb.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

func (p prefixedScripter) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return p.rdb.ScriptExists(ctx, hashes...)
}

func (p prefixedScripter) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return p.rdb.ScriptLoad(ctx, script)
}

func (p prefixedScripter) Del(ctx context.Context, keys ...string) *goredis.IntCmd {
	return p.rdb.Del(ctx, p.keys(keys)...)
}
