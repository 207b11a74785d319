package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// LoginThrottle is the Redis port.LoginThrottle: fixed windows that start at
// a counter's first failure, and a sorted set of known clients per account.
//
// Each counter is a hash {s: window start (ms), n: failures}:
//
//	<prefix>throttle:{login}:uc:<username digest>:<client digest>
//	<prefix>throttle:{login}:c:<client digest>
//	<prefix>throttle:{login}:u:<username digest>
//	<prefix>throttle:{login}:k:<username digest>   (zset: identity digest → last success, ms)
//
// One script counts an attempt in all three counters (and, for Reserve,
// first judges it, known clients included), so a login costs one round
// trip and concurrent guesses are counted exactly. A script's keys must
// share a Redis Cluster slot, and the client and username counters cross
// (one client, many usernames; one username, many clients), so every
// throttle key carries the one hash tag {login}: the throttle lives on one
// shard. That is cheap: each login also costs an argon2id hash, so logins
// are a few thousand per second at most, far below what one shard serves.
// As in the Denylist, windows are judged by the injected Clock (the start
// is stored), and a TTL of one window, set when the window opens, removes
// a counter afterwards; the known set expires KnownClientTTL after the
// account's last success: nothing is ever permanent.
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
	return &LoginThrottle{client: client, prefix: prefix + "throttle:{login}:", cfg: cfg.WithDefaults(), clock: clock}
}

// keys returns the username+client, client, username and known-set keys.
func (l *LoginThrottle) keys(a port.LoginAttempt) []string {
	u, c := digest(a.Username), digest(a.Client)
	return []string{l.prefix + "uc:" + u + ":" + c, l.prefix + "c:" + c, l.prefix + "u:" + u, l.prefix + "k:" + u}
}

// identities are the digests a's client may be known by.
func identities(a port.LoginAttempt) []any {
	ids := []any{digest("c\x00" + a.Client)}
	if a.Device != "" {
		ids = append(ids, digest("d\x00"+a.Device))
	}
	return ids
}

// Script modes.
const (
	modeFail    = "0"
	modeReserve = "1"
	modeCheck   = "2"
)

// countScript looks at the three counters KEYS[1..3] at now (ARGV[1], ms)
// with window ARGV[2] (ms) and limits ARGV[4..6]; the client is known when
// one of ARGV[8..] has a score above ARGV[7] (now - KnownClientTTL) in the
// set KEYS[4]. In mode ARGV[3] = 2 it counts nothing; in mode 1 it counts
// nothing when the caller is throttled; otherwise it counts one attempt in
// each counter, opening a new window where the old one has ended. It
// returns {counted, n1, s1, n2, s2, n3, s3, known}: n and start for each
// counter (0 and now for one without a live window) after counting, and
// known (0/1) judged only when the username counter is over its limit.
var countScript = newScript(`
local now, w, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local limits = {tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
local since = tonumber(ARGV[7])
local function known()
  for i = 8, #ARGV do
    local s = redis.call('ZSCORE', KEYS[4], ARGV[i])
    if s and tonumber(s) > since then return true end
  end
  return false
end
local ns, ss = {}, {}
for i = 1, 3 do
  local v = redis.call('HMGET', KEYS[i], 's', 'n')
  local s, n = tonumber(v[1]), tonumber(v[2])
  if s and n and now < s + w then
    ns[i], ss[i] = n, v[1]
  else
    ns[i], ss[i] = 0, false
  end
end
local count = mode == '0'
if mode == '1' then
  count = not (ns[1] > limits[1] or ns[2] > limits[2] or (ns[3] > limits[3] and not known()))
end
if count then
  for i = 1, 3 do
    if ss[i] then
      ns[i] = redis.call('HINCRBY', KEYS[i], 'n', 1)
    else
      redis.call('DEL', KEYS[i])
      redis.call('HSET', KEYS[i], 's', ARGV[1], 'n', 1)
      redis.call('PEXPIRE', KEYS[i], ARGV[2])
      ns[i], ss[i] = 1, ARGV[1]
    end
  end
end
local out = {count and 1 or 0}
for i = 1, 3 do
  table.insert(out, ns[i])
  table.insert(out, ss[i] or ARGV[1])
end
table.insert(out, (ns[3] > limits[3] and known()) and 1 or 0)
return out
`)

// Check judges the attempt with one script call and counts nothing.
func (l *LoginThrottle) Check(ctx context.Context, a port.LoginAttempt) (time.Duration, error) {
	return l.count(ctx, a, modeCheck)
}

// Fail counts the failure in all three counters with one script call.
func (l *LoginThrottle) Fail(ctx context.Context, a port.LoginAttempt) (time.Duration, error) {
	return l.count(ctx, a, modeFail)
}

// Reserve judges the attempt and, unless throttled, counts it in all three
// counters, in one script call (one round trip, atomic).
func (l *LoginThrottle) Reserve(ctx context.Context, a port.LoginAttempt) (time.Duration, error) {
	return l.count(ctx, a, modeReserve)
}

// count runs countScript in mode and returns the longest time left of the
// counters that throttle the caller.
func (l *LoginThrottle) count(ctx context.Context, a port.LoginAttempt, mode string) (time.Duration, error) {
	now := l.clock.Now().UnixMilli()
	args := append([]any{
		strconv.FormatInt(now, 10), l.cfg.Window.Milliseconds(), mode,
		l.cfg.MaxPerUser, l.cfg.MaxPerIP, l.cfg.MaxPerUsername,
		strconv.FormatInt(now-l.cfg.KnownClientTTL.Milliseconds(), 10),
	}, identities(a)...)
	res, err := countScript.Run(ctx, l.client, l.keys(a), args...).Slice()
	if err != nil {
		return 0, translate(err)
	}
	if len(res) != 8 {
		return 0, domain.Internal(fmt.Errorf("throttle: script returned %v", res))
	}
	known, _ := res[7].(int64)
	var retry time.Duration
	for i, limit := range []int{l.cfg.MaxPerUser, l.cfg.MaxPerIP, l.cfg.MaxPerUsername} {
		n, ok := res[1+2*i].(int64)
		start, err := parseInt(res[2+2*i])
		if !ok || err != nil {
			return 0, domain.Internal(fmt.Errorf("throttle: script returned %v", res))
		}
		if i == 2 && known == 1 {
			continue // the account is protected, but this client is known to it
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

// forgiveScript, with ARGV[1] = 1 (Forgive), deletes the username+client
// counter (KEYS[1]), takes one unit back from the client and username
// counters (KEYS[2], KEYS[3]) and remembers the identities ARGV[6..] with
// score ARGV[2] (now, ms) in the known set KEYS[4], dropping entries not
// above ARGV[3] (now - TTL) and all but the newest ARGV[4], which expires
// ARGV[5] ms from now. With ARGV[1] = 0 (Release) it only takes one unit
// back from each of the three counters. No count goes below zero.
var forgiveScript = newScript(`
local forgive = ARGV[1] == '1'
for i = 1, 3 do
  if forgive and i == 1 then
    redis.call('DEL', KEYS[1])
  else
    local n = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
    if n > 0 then redis.call('HINCRBY', KEYS[i], 'n', -1) end
  end
end
if forgive then
  for i = 6, #ARGV do redis.call('ZADD', KEYS[4], ARGV[2], ARGV[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[3])
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[4]) - 1)
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
end
return 0
`)

// Forgive clears the username+client counter, un-counts one failure from
// the client and the username and remembers the client, in one script call.
func (l *LoginThrottle) Forgive(ctx context.Context, a port.LoginAttempt) error {
	return l.giveBack(ctx, a, true)
}

// Release un-counts one reserved attempt from all three counters, in one
// script call.
func (l *LoginThrottle) Release(ctx context.Context, a port.LoginAttempt) error {
	return l.giveBack(ctx, a, false)
}

func (l *LoginThrottle) giveBack(ctx context.Context, a port.LoginAttempt, forgive bool) error {
	now := l.clock.Now().UnixMilli()
	mode := "0"
	if forgive {
		mode = "1"
	}
	ttl := l.cfg.KnownClientTTL.Milliseconds()
	args := append([]any{mode, now, now - ttl, port.MaxKnownClients, ttl}, identities(a)...)
	return translate(forgiveScript.Run(ctx, l.client, l.keys(a), args...).Err())
}

// rememberScript makes the identities ARGV[6..] known in the set KEYS[1] as
// of ARGV[1] (ms) unless it is not above ARGV[2] (now - TTL) or they are
// known as of a later time already, drops entries not above ARGV[2] and all
// but the newest ARGV[3], and lets the set expire ARGV[5] (TTL) ms after
// its newest entry, ARGV[4] being now (ms).
var rememberScript = newScript(`
local at, since = tonumber(ARGV[1]), tonumber(ARGV[2])
if at <= since then return 0 end
for i = 6, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if not s or tonumber(s) < at then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i]) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[3]) - 1)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then
  redis.call('PEXPIRE', KEYS[1], string.format('%d', tonumber(top[2]) + tonumber(ARGV[5]) - tonumber(ARGV[4])))
end
return 0
`)

// Remember makes each client known to its account as of its At: one
// script call per client, all pipelined in one round trip.
func (l *LoginThrottle) Remember(ctx context.Context, clients ...port.KnownClient) error {
	if len(clients) == 0 {
		return nil
	}
	// A Redis that just lost its memory lost its script cache too, and a
	// pipeline cannot fall back from EVALSHA to EVAL: load the script first.
	sha, err := rememberScript.Load(ctx, l.client).Result()
	if err != nil {
		return translate(err)
	}
	now := l.clock.Now().UnixMilli()
	ttl := l.cfg.KnownClientTTL.Milliseconds()
	pipe := l.client.Pipeline()
	for _, c := range clients {
		at := min(c.At.UnixMilli(), now)
		args := append([]any{at, now - ttl, port.MaxKnownClients, now, ttl}, identities(c.LoginAttempt)...)
		pipe.EvalSha(ctx, sha, l.keys(c.LoginAttempt)[3:], args...)
	}
	_, err = pipe.Exec(ctx)
	return translate(err)
}
