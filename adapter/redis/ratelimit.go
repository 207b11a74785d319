package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// RateLimiter is the GCRA request budget shared by every instance: the state
// of a budget is one Redis key holding its theoretical arrival time, updated
// by one script call per request, with Redis's own clock so that instances
// whose clocks disagree still agree on the budget.
//
// Keys: IP budgets live at <prefix>rate:<key>; principal budgets (every key
// but "ip:...", i.e. user: and key:) at <prefix>{deny}:rate:<key>, in the
// denylist's hash slot, so that the Gate can check a token's revocation and
// spend its budget in one script on Redis Cluster too (a script's keys must
// share a slot). IP budgets, the bulk of anonymous traffic, stay spread.
type RateLimiter struct {
	client goredis.UniversalClient
	prefix string
	gcra   gcra
}

var _ port.RateLimiter = (*RateLimiter)(nil)

// gcra holds one budget's parameters in whole microseconds, the resolution
// of Redis's TIME, so the script computes in exact integers.
type gcra struct {
	perMinute int
	interval  int64 // T: the emission interval, 60 s / perMinute, at least 1 µs
	tolerance int64 // τ = T × (burst − 1): how far ahead of now the TAT may run
}

func newGCRA(perMinute, burst int) (gcra, error) {
	if perMinute < 1 || burst < 1 {
		return gcra{}, fmt.Errorf("rate limiter: requests per minute and burst must be at least 1, got %d and %d", perMinute, burst)
	}
	interval := max(time.Minute.Microseconds()/int64(perMinute), 1)
	return gcra{perMinute: perMinute, interval: interval, tolerance: interval * int64(burst-1)}, nil
}

// NewRateLimiter returns a limiter allowing perMinute requests a minute per
// key, of which burst may arrive at once. Keys live under prefix, so several
// deployments (or test packages) can share one Redis. The budget's
// resolution is a microsecond: above 60,000,000 a minute it is that.
func NewRateLimiter(rdb goredis.UniversalClient, prefix string, perMinute, burst int) (*RateLimiter, error) {
	g, err := newGCRA(perMinute, burst)
	if err != nil {
		return nil, err
	}
	return &RateLimiter{client: rdb, prefix: prefix, gcra: g}, nil
}

// key is where the budget named key lives (see RateLimiter).
func (l *RateLimiter) key(key string) string {
	if strings.HasPrefix(key, "ip:") {
		return l.prefix + "rate:" + key
	}
	return l.prefix + denyTag + "rate:" + key
}

// gcraLua is the body shared by the limiter's and the gate's scripts: it
// spends one unit of the budget at KEYS[rk] with interval T = ARGV[ti] and
// tolerance τ = ARGV[ti+1] (µs) and returns {allowed, remaining,
// retryAfterµs, resetAfterµs}.
//
// The key holds the theoretical arrival time (TAT) in seconds with six
// decimals. A request at now is allowed when TAT − now ≤ τ, and then moves
// the TAT to max(TAT, now) + T; so from idle exactly burst requests pass,
// then one per T. A denied request spends nothing. The key expires when the
// budget is full again (at the TAT), which is all it would say from then on.
const gcraLua = `
local function gcra(key, interval, tolerance)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tat = tonumber(redis.call('GET', key) or '')
  if tat then tat = math.floor(tat * 1000000 + 0.5) else tat = now end
  if tat < now then tat = now end
  local ahead = tat - now
  if ahead > tolerance then
    return {0, 0, ahead - tolerance, ahead}
  end
  local newTat = tat + interval
  redis.call('SET', key, string.format('%d.%06d', math.floor(newTat / 1000000), newTat % 1000000),
    'PX', math.ceil((newTat - now) / 1000))
  return {1, math.floor((tolerance - ahead) / interval), 0, newTat - now}
end
`

// rateScript: KEYS[1] the budget; ARGV T, τ (µs).
var rateScript = newScript(gcraLua + `
return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
`)

// Allow spends one unit of key's budget. A Redis failure is returned as is:
// the caller decides to fail open.
func (l *RateLimiter) Allow(ctx context.Context, key string) (port.RateDecision, error) {
	res, err := rateScript.Run(ctx, l.client, []string{l.key(key)}, l.gcra.interval, l.gcra.tolerance).Int64Slice()
	if err != nil {
		return port.RateDecision{}, fmt.Errorf("rate limiter: %w", translate(err))
	}
	return l.gcra.decision(res)
}

// decision reads the script's {allowed, remaining, retryAfterµs,
// resetAfterµs}.
func (g gcra) decision(res []int64) (port.RateDecision, error) {
	if len(res) != 4 {
		return port.RateDecision{}, domain.Internal(fmt.Errorf("rate limiter: script returned %v", res))
	}
	return port.RateDecision{
		Allowed:    res[0] == 1,
		Limit:      g.perMinute,
		Remaining:  int(max(res[1], 0)),
		RetryAfter: time.Duration(max(res[2], 0)) * time.Microsecond,
		ResetAfter: time.Duration(max(res[3], 0)) * time.Microsecond,
	}, nil
}
