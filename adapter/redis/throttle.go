package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// LoginThrottle is the Redis port.LoginThrottle: fixed windows that start at
// a counter's first failure.
//
// Each counter is a hash {s: window start (ms), n: failures}:
//
//	<prefix>throttle:{<ip digest>}:ip
//	<prefix>throttle:{<ip digest>}:u:<username digest>
//
// Both counters of one IP share a hash tag, so the one script that counts an
// attempt in both (and, for Reserve, first looks at both) works on Redis
// Cluster. As in the Denylist, the window is
// judged by the injected Clock (the start is stored), and a TTL of one
// window, set when the window opens, removes the counter afterwards: nothing
// is ever permanent.
type LoginThrottle struct {
	client goredis.UniversalClient
	prefix string
	cfg    port.ThrottleLimits
	clock  port.Clock
}

var _ port.LoginThrottle = (*LoginThrottle)(nil)

// NewLoginThrottle returns a throttle with cfg's limits, storing its keys
// under prefix and telling time by clock.
func NewLoginThrottle(client goredis.UniversalClient, prefix string, cfg port.ThrottleLimits, clock port.Clock) *LoginThrottle {
	return &LoginThrottle{client: client, prefix: prefix + "throttle:", cfg: cfg.WithDefaults(), clock: clock}
}

// keys returns the username+IP and the IP counter keys.
func (l *LoginThrottle) keys(username, ip string) (userKey, ipKey string) {
	tag := "{" + digest(ip) + "}"
	return l.prefix + tag + ":u:" + digest(user.NormalizeUsername(username)), l.prefix + tag + ":ip"
}

// countScript counts one attempt in each of KEYS (username+IP, IP) at now
// (ARGV[1], ms) with window ARGV[2] (ms), opening a new window where the
// old one has ended. With ARGV[3] = 1 it first looks: if a live counter is
// already over its limit (ARGV[4] for the username+IP counter, ARGV[5] for
// the IP counter) it counts nothing. It returns {counted, n, start} with n
// and start for each key (0 and now for a key without a live window).
var countScript = newScript(`
local now, w = tonumber(ARGV[1]), tonumber(ARGV[2])
local limits = {tonumber(ARGV[4]), tonumber(ARGV[5])}
local live = {}
local over = false
for i, k in ipairs(KEYS) do
  local v = redis.call('HMGET', k, 's', 'n')
  local s, n = tonumber(v[1]), tonumber(v[2])
  if s and n and now < s + w then
    live[i] = {n, v[1]}
    if ARGV[3] == '1' and n > limits[i] then over = true end
  else
    live[i] = false
  end
end
local out = {over and 0 or 1}
for i, k in ipairs(KEYS) do
  if over then
    if live[i] then
      table.insert(out, live[i][1])
      table.insert(out, live[i][2])
    else
      table.insert(out, 0)
      table.insert(out, ARGV[1])
    end
  elseif live[i] then
    table.insert(out, redis.call('HINCRBY', k, 'n', 1))
    table.insert(out, live[i][2])
  else
    redis.call('DEL', k)
    redis.call('HSET', k, 's', ARGV[1], 'n', 1)
    redis.call('PEXPIRE', k, ARGV[2])
    table.insert(out, 1)
    table.insert(out, ARGV[1])
  end
end
return out
`)

// Check reads both counters in one pipeline (one round trip; both keys are
// in one slot) and counts nothing.
func (l *LoginThrottle) Check(ctx context.Context, username, ip string) (time.Duration, error) {
	uk, ik := l.keys(username, ip)
	pipe := l.client.Pipeline()
	uc := pipe.HMGet(ctx, uk, "s", "n")
	ic := pipe.HMGet(ctx, ik, "s", "n")
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, translate(err)
	}
	now := l.clock.Now().UnixMilli()
	var retry time.Duration
	for _, c := range []struct {
		vals  []any
		limit int
	}{{uc.Val(), l.cfg.MaxPerUser}, {ic.Val(), l.cfg.MaxPerIP}} {
		if len(c.vals) != 2 || c.vals[0] == nil || c.vals[1] == nil {
			continue
		}
		start, err1 := parseInt(c.vals[0])
		n, err2 := parseInt(c.vals[1])
		if err1 != nil || err2 != nil {
			return 0, domain.Internal(fmt.Errorf("throttle: bad counter %v", c.vals))
		}
		retry = max(retry, l.over(n, start, c.limit, now))
	}
	return retry, nil
}

// Fail counts the failure in both counters with one script call.
func (l *LoginThrottle) Fail(ctx context.Context, username, ip string) (time.Duration, error) {
	return l.count(ctx, username, ip, false)
}

// Reserve looks at both counters and, unless one is over its limit, counts
// the attempt in both, in one script call (one round trip, atomic).
func (l *LoginThrottle) Reserve(ctx context.Context, username, ip string) (time.Duration, error) {
	return l.count(ctx, username, ip, true)
}

// count runs countScript, looking first when checkFirst, and returns the
// longer time left of the counters that are over their limits.
func (l *LoginThrottle) count(ctx context.Context, username, ip string, checkFirst bool) (time.Duration, error) {
	uk, ik := l.keys(username, ip)
	now := l.clock.Now().UnixMilli()
	check := "0"
	if checkFirst {
		check = "1"
	}
	res, err := countScript.Run(ctx, l.client, []string{uk, ik},
		strconv.FormatInt(now, 10), l.cfg.Window.Milliseconds(), check, l.cfg.MaxPerUser, l.cfg.MaxPerIP).Slice()
	if err != nil {
		return 0, translate(err)
	}
	if len(res) != 5 {
		return 0, domain.Internal(fmt.Errorf("throttle: script returned %v", res))
	}
	var retry time.Duration
	for i, limit := range []int{l.cfg.MaxPerUser, l.cfg.MaxPerIP} {
		n, ok := res[1+2*i].(int64)
		start, err := parseInt(res[2+2*i])
		if !ok || err != nil {
			return 0, domain.Internal(fmt.Errorf("throttle: script returned %v", res))
		}
		retry = max(retry, l.over(n, start, limit, now))
	}
	return retry, nil
}

// over returns the time left in a window that started at start (ms) if its
// count n is over limit, else 0. It never exceeds one window, even when
// another instance's clock runs ahead of ours.
func (l *LoginThrottle) over(n, start int64, limit int, now int64) time.Duration {
	if n <= int64(limit) {
		return 0
	}
	left := time.Duration(start-now)*time.Millisecond + l.cfg.Window
	return min(max(left, 0), l.cfg.Window)
}

// forgiveScript deletes the username+IP counter (KEYS[1]) and takes one
// unit back from the IP counter (KEYS[2]) if it has any, atomically.
var forgiveScript = newScript(`
redis.call('DEL', KEYS[1])
local n = tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
if n > 0 then redis.call('HINCRBY', KEYS[2], 'n', -1) end
return 0
`)

// Forgive clears the username+IP counter and un-counts one IP failure, in
// one script call (both keys share a slot).
func (l *LoginThrottle) Forgive(ctx context.Context, username, ip string) error {
	uk, ik := l.keys(username, ip)
	return translate(forgiveScript.Run(ctx, l.client, []string{uk, ik}).Err())
}
