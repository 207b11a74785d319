package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Denylist is the Redis port.TokenDenylist.
//
// Keys (all tagged {deny}, see the package doc), with the Clock's instant as
// the source of truth and the Redis TTL only as garbage collection:
//
//	<prefix>{deny}:jti:<jti>      "<untilMs>"            TTL until-now
//	<prefix>{deny}:sid:<sid>      "<untilMs>"            TTL until-now
//	<prefix>{deny}:nbf:<userID>   "<nbfUnix>:<untilMs>"  TTL until-now
//	<prefix>{deny}:refresh:<jti>  "<graceEndMs>:<token>" TTL min(grace, until-now)
//	<prefix>{deny}:epoch          "<builtMs>:<id>:<runID>" no TTL: the copy is complete
//	<prefix>{deny}:rebuild        "<id>"                 the rebuild lock, TTL rebuildLockTTL
//
// Each value carries its own end, compared with the injected Clock, so
// expiry behaves the same here as in the in-memory adapter (and tests move
// time without sleeping); the TTL, set from the same instant, makes Redis
// drop the entry then, so the denylist never grows without bound.
//
// The refresh entry holds the successor token in clear for at most the
// grace (10 s by default, never past the old token's until), so that
// concurrent refreshes can all be handed the one successor. It is a secret
// at rest for that window. It is not encrypted: whoever can read this Redis
// can also delete deny entries, so Redis is inside the trust boundary of the
// token system either way; encryption would need a key here and add nothing
// against that reader. Keep Redis private (network, AUTH/ACL, TLS).
type Denylist struct {
	client goredis.UniversalClient
	prefix string
	clock  port.Clock
	// onRebuilt runs after a rebuild this instance did (OnRebuilt).
	onRebuilt func(ctx context.Context)
	// retainMs is how long feed entries are kept (SetFeedRetention).
	retainMs int64
}

var _ port.TokenDenylist = (*Denylist)(nil)

// NewDenylist returns a denylist storing its keys under prefix and telling
// time by clock.
func NewDenylist(client goredis.UniversalClient, prefix string, clock port.Clock) *Denylist {
	return &Denylist{client: client, prefix: prefix + denyTag, clock: clock}
}

// denyTag puts a key in the denylist's hash slot (see the package doc); the
// Gate's principal budgets carry it too.
const denyTag = "{deny}:"

func (d *Denylist) jtiKey(jti string) string    { return d.prefix + "jti:" + jti }
func (d *Denylist) sidKey(sid string) string    { return d.prefix + "sid:" + sid }
func (d *Denylist) nbfKey(userID string) string { return d.prefix + "nbf:" + userID }
func (d *Denylist) claimKey(jti string) string  { return d.prefix + "refresh:" + jti }
func (d *Denylist) epochKey() string            { return d.prefix + "epoch" }
func (d *Denylist) lockKey() string             { return d.prefix + "rebuild" }
func unixMillis(t time.Time) string             { return strconv.FormatInt(t.UnixMilli(), 10) }
func errEmpty(what string) error                { return domain.Internal(errors.New("denylist: empty " + what)) }
func errCorrupt(key string, v any) error {
	return domain.Internal(fmt.Errorf("denylist: bad value %q at %s", v, key))
}

// errCold is the answer while the copy is incomplete: fail closed (503).
var errCold = domain.Unavailable("redis", port.ErrDenylistCold)

// Check is one MGET of the token's three possible entries and the epoch.
func (d *Denylist) Check(ctx context.Context, c session.Claims) error {
	keys, err := d.checkKeys(c)
	if err != nil {
		return err
	}
	vals, err := d.client.MGet(ctx, keys...).Result()
	if err != nil {
		return translate(err)
	}
	return d.judge(c, keys, vals)
}

// checkKeys are the jti, sid and user entries that can deny the token c,
// then the epoch entry, in the order judge expects; a token lacking any of
// the three is refused.
func (d *Denylist) checkKeys(c session.Claims) ([]string, error) {
	if c.TokenID == "" || c.SessionID == "" || c.UserID == "" {
		return nil, domain.ErrUnauthenticated
	}
	return []string{d.jtiKey(c.TokenID), d.sidKey(c.SessionID), d.nbfKey(c.UserID), d.epochKey()}, nil
}

// judge decides on the values of checkKeys (nil where absent): the one
// decision Check and the Gate both answer with.
func (d *Denylist) judge(c session.Claims, keys []string, vals []any) error {
	if len(vals) != len(keys) {
		return domain.Internal(fmt.Errorf("denylist: read %d values for %d keys", len(vals), len(keys)))
	}
	if vals[3] == nil { // no epoch: what the entries say may be a partial copy
		return errCold
	}
	now := d.clock.Now().UnixMilli()
	for i := range 2 { // jti, sid: "<untilMs>"
		if vals[i] == nil {
			continue
		}
		until, err := parseInt(vals[i])
		if err != nil {
			return errCorrupt(keys[i], vals[i])
		}
		if now < until {
			return domain.ErrUnauthenticated
		}
	}
	if vals[2] != nil { // user: "<nbfUnix>:<untilMs>"
		nbf, until, err := parsePair(vals[2])
		if err != nil {
			return errCorrupt(keys[2], vals[2])
		}
		if now < until && c.IssuedAt.Unix() < nbf {
			return domain.ErrUnauthenticated
		}
	}
	return nil
}

// denyLua sets key to the until untilMs (a string) with TTL ttl unless it
// already holds a later until: one token or session denial, shared by the
// rebuild's batches (denyScript) and a single denial with its feed entry
// (denyLogScript).
const denyLua = `
local function denyKey(key, untilMs, ttl)
  local cur = tonumber(redis.call('GET', key))
  if cur == nil or tonumber(untilMs) > cur then
    redis.call('SET', key, untilMs, 'PX', ttl)
  end
end
`

// denyScript sets each KEYS[i] to the until ARGV[2i-1] with TTL ARGV[2i]
// (denyKey): the rebuild's batches.
var denyScript = newScript(denyLua + `
for i, key in ipairs(KEYS) do denyKey(key, ARGV[2 * i - 1], ARGV[2 * i]) end
return 1
`)

// DenyToken denies jti until until, keeping a later until already stored.
func (d *Denylist) DenyToken(ctx context.Context, jti string, until time.Time) error {
	if jti == "" {
		return errEmpty("jti")
	}
	return d.deny(ctx, d.jtiKey(jti), session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until})
}

// DenySession denies every token of sid until until.
func (d *Denylist) DenySession(ctx context.Context, sid string, until time.Time) error {
	if sid == "" {
		return errEmpty("sid")
	}
	return d.deny(ctx, d.sidKey(sid), session.Revocation{Kind: session.RevokeSession, ID: sid, Until: until})
}

// deny writes r at key and appends it to the feed, in one script.
func (d *Denylist) deny(ctx context.Context, key string, r session.Revocation) error {
	ttl := ttlMillis(r.Until, d.clock.Now())
	if ttl == 0 {
		return nil // every token it could deny has expired already
	}
	args := append([]any{unixMillis(r.Until), ttl, d.retention()}, revocationFields(r)...)
	return translate(denyLogScript.Run(ctx, d.client, []string{key, d.logKey()}, args...).Err())
}

// nbfLua keeps, in key, the later of the stored and the new not-before nb
// (unix seconds) and the later until untilMs (ms), with a TTL to that until
// from now (ms). Numbers are kept as the strings they arrived as, so Lua
// never prints a large number in exponent notation. Shared by the
// rebuild's batches (nbfScript) and a single denial with its feed entry
// (nbfLogScript).
const nbfLua = `
local function denyUser(key, now, nb, untilMs)
  local cur = redis.call('GET', key)
  if cur then
    local sep = string.find(cur, ':', 1, true)
    if sep then
      local cnb, cuntil = string.sub(cur, 1, sep - 1), string.sub(cur, sep + 1)
      if tonumber(cuntil) > now then
        if tonumber(cnb) > tonumber(nb) then nb = cnb end
        if tonumber(cuntil) > tonumber(untilMs) then untilMs = cuntil end
      end
    end
  end
  redis.call('SET', key, nb .. ':' .. untilMs, 'PX', tonumber(untilMs) - now)
end
`

// nbfScript applies denyUser to each KEYS[i] with not-before ARGV[2i] and
// until ARGV[2i+1], at now ARGV[1]: the rebuild's batches.
var nbfScript = newScript(nbfLua + `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do denyUser(key, now, ARGV[2 * i], ARGV[2 * i + 1]) end
return 1
`)

// DenyUserBefore denies the user's tokens issued before notBefore (whole
// seconds), keeping the later not-before and the later until.
func (d *Denylist) DenyUserBefore(ctx context.Context, userID string, notBefore, until time.Time) error {
	if userID == "" {
		return errEmpty("user id")
	}
	now := d.clock.Now()
	if ttlMillis(until, now) == 0 {
		return nil
	}
	args := append([]any{unixMillis(now), strconv.FormatInt(notBefore.Unix(), 10), unixMillis(until), d.retention()},
		revocationFields(session.Revocation{Kind: session.RevokeUser, ID: userID, NotBefore: notBefore, Until: until})...)
	return translate(nbfLogScript.Run(ctx, d.client, []string{d.nbfKey(userID), d.logKey()}, args...).Err())
}

// claimScript is the atomic refresh rotation. KEYS: the refresh entry, the
// jti deny entry, the epoch, the feed. ARGV: now (ms), successor, grace end (ms),
// grace TTL (ms, 0 = keep no successor), until (ms), until TTL (ms), feed
// retention (ms), then the feed fields of the jti's denial. It returns {1, winner}
// to a caller within the grace of an earlier claim, {2, successor} to the
// winner, {0, ""} when the token is already denied or the grace is over,
// {3, ""} when there is no epoch (the copy is incomplete: claim nothing).
// Being one script, the read and the SET NX cannot interleave with another
// caller's.
var claimScript = newScript(logLua + `
if redis.call('EXISTS', KEYS[3]) == 0 then return {3, ''} end
local now = tonumber(ARGV[1])
local c = redis.call('GET', KEYS[1])
if c then
  local sep = string.find(c, ':', 1, true)
  if sep and tonumber(string.sub(c, 1, sep - 1)) > now then
    return {1, string.sub(c, sep + 1)}
  end
  return {0, ''}
end
local denied = tonumber(redis.call('GET', KEYS[2]))
if denied and denied > now then
  return {0, ''}
end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[1], ARGV[3] .. ':' .. ARGV[2], 'NX', 'PX', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
log(KEYS[4], ARGV[7], 8)
return {2, ARGV[2]}
`)

// ClaimRefresh makes successor the one successor of jti, atomically with
// denying jti until until.
func (d *Denylist) ClaimRefresh(ctx context.Context, jti, successor string, grace time.Duration, until time.Time) (string, error) {
	if jti == "" || successor == "" {
		return "", errEmpty("jti or successor")
	}
	now := d.clock.Now()
	untilTTL := ttlMillis(until, now)
	if untilTTL == 0 {
		return "", domain.ErrUnauthenticated
	}
	graceEnd := now.Add(max(grace, 0))
	if graceEnd.After(until) {
		graceEnd = until
	}
	args := append([]any{unixMillis(now), successor, unixMillis(graceEnd), ttlMillis(graceEnd, now), unixMillis(until), untilTTL, d.retention()},
		revocationFields(session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until})...)
	res, err := claimScript.Run(ctx, d.client, []string{d.claimKey(jti), d.jtiKey(jti), d.epochKey(), d.logKey()}, args...).Slice()
	if err != nil {
		return "", translate(err)
	}
	if len(res) != 2 {
		return "", domain.Internal(fmt.Errorf("denylist: claim script returned %v", res))
	}
	state, _ := res[0].(int64)
	winner, _ := res[1].(string)
	switch {
	case state == 0:
		return "", domain.ErrUnauthenticated
	case state == 3:
		return "", errCold
	case (state == 1 || state == 2) && winner != "":
		return winner, nil
	}
	return "", domain.Internal(fmt.Errorf("denylist: claim script returned %v", res))
}

func parseInt(v any) (int64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, errors.New("not a string")
	}
	return strconv.ParseInt(s, 10, 64)
}

func parsePair(v any) (int64, int64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, 0, errors.New("not a string")
	}
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, errors.New("no separator")
	}
	x, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, err
	}
	y, err := strconv.ParseInt(b, 10, 64)
	return x, y, err
}
