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

// The revocation feed (port.RevocationFeed) is a Redis Stream in the
// denylist's slot:
//
//	<prefix>{deny}:log   entries {k, id[, u][, nb]}
//
// k is "token", "session" or "user" (a revocation: id its jti, sid or user
// ID, u its until in ms, nb a user's not-before in unix seconds), "key" (an
// API key ID) or "owner" (a user whose keys must be forgotten). Every
// single denial of the Denylist appends its entry in the same script that
// writes the deny key, so no denial is in force in Redis without being in
// the feed; the rebuild's batch scripts append nothing (a follower that sees
// the epoch change reloads from the durable record anyway).
//
// Each append deletes the entries older than the retention (by Redis's
// clock) and makes the stream expire a retention after it, which is at least the longest lifetime
// of a credential an entry can concern: older entries can deny nothing
// that could still be presented. Redis 7 keeps the newest trimmed ID
// (XINFO STREAM max-deleted-entry-id), which is how a follower whose
// position was trimmed learns it has a gap.

// DefaultFeedRetention is how long feed entries are kept when the app does
// not say (it passes the longest credential lifetime, at least an hour).
const DefaultFeedRetention = 24 * time.Hour

// followCount is the most entries one XREAD returns; a full read is
// followed by another at once (no BLOCK) until the stream is drained.
const followCount = 1000

func (d *Denylist) logKey() string { return d.prefix + "log" }

// SetFeedRetention sets how long feed entries are kept (at least a minute).
// Call it before the first write.
func (d *Denylist) SetFeedRetention(retain time.Duration) {
	d.retainMs = max(retain, time.Minute).Milliseconds()
}

func (d *Denylist) retention() int64 {
	if d.retainMs == 0 {
		return DefaultFeedRetention.Milliseconds()
	}
	return d.retainMs
}

// logLua appends the fields in ARGV[from..] to the stream stream, then
// deletes (XDEL, at most 100 a call) its entries older than retainMs by
// Redis's clock. XDEL, not XTRIM: Redis 7.0 records the newest deleted ID
// (max-deleted-entry-id) for XDEL only, and that is how a follower whose
// position was trimmed past learns of its gap.
const logLua = `
local function trim(stream, nowMs, retainMs)
  local old = redis.call('XRANGE', stream, '-', string.format('%d', nowMs - tonumber(retainMs) - 1), 'COUNT', 100)
  for _, e in ipairs(old) do redis.call('XDEL', stream, e[1]) end
end
local function log(stream, retainMs, from)
  local t = redis.call('TIME')
  local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local fields = {}
  for i = from, #ARGV do fields[#fields + 1] = ARGV[i] end
  redis.call('XADD', stream, '*', unpack(fields))
  trim(stream, nowMs, retainMs)
  redis.call('PEXPIRE', stream, retainMs)
end
`

// denyLogScript is one denial (denyKey: KEYS[1], ARGV[1] until, ARGV[2]
// TTL) plus its feed entry (KEYS[2] the stream, ARGV[3] retention, ARGV[4..]
// the entry's fields).
var denyLogScript = newScript(denyLua + logLua + `
denyKey(KEYS[1], ARGV[1], ARGV[2])
log(KEYS[2], ARGV[3], 4)
return 1
`)

// nbfLogScript is one user's not-before (denyUser: KEYS[1]; ARGV[1] now,
// ARGV[2] not-before, ARGV[3] until) plus its feed entry (KEYS[2], ARGV[4]
// retention, ARGV[5..] the fields).
var nbfLogScript = newScript(nbfLua + logLua + `
denyUser(KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3])
log(KEYS[2], ARGV[4], 5)
return 1
`)

// publishScript appends one entry per pair of ARGV[2..] (kind, id) to the
// stream KEYS[1], trimmed to ARGV[1] ms.
var publishScript = newScript(logLua + `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV, 2 do
  redis.call('XADD', KEYS[1], '*', 'k', ARGV[i], 'id', ARGV[i + 1])
end
trim(KEYS[1], nowMs, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// idLua compares two stream IDs ("ms-seq", or "ms").
const idLua = `
local function parseID(s)
  local dash = string.find(s, '-', 1, true)
  if not dash then return tonumber(s), 0 end
  return tonumber(string.sub(s, 1, dash - 1)), tonumber(string.sub(s, dash + 1))
end
local function idLess(a, b)
  local am, as = parseID(a)
  local bm, bs = parseID(b)
  if am ~= bm then return am < bm end
  return as < bs
end
local function streamInfo(key, field)
  local info = redis.pcall('XINFO', 'STREAM', key)
  if type(info) ~= 'table' or info.err then return nil end
  for i = 1, #info, 2 do
    if info[i] == field then return info[i + 1] end
  end
  return nil
end
`

// headScript returns {epoch, last ID} ({false} without a valid epoch; an
// epoch another Redis process wrote is deleted, as readyScript does).
// KEYS: epoch, stream.
var headScript = newScript(runIDLua + idLua + `
local v = redis.call('GET', KEYS[1])
if not v then return {0} end
if run and string.sub(v, -#run - 1) ~= ':' .. run then
  redis.call('DEL', KEYS[1])
  return {0}
end
return {1, v, streamInfo(KEYS[2], 'last-generated-id') or '0-0'}
`)

// positionScript judges a follower's position after it read: 1 when the
// epoch is still ARGV[1] and nothing after ARGV[2] was trimmed, 0 without a
// valid epoch, 2 when the epoch changed, 3 when entries after the position
// were trimmed (or the stream vanished). KEYS: epoch, stream.
var positionScript = newScript(runIDLua + idLua + `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if run and string.sub(v, -#run - 1) ~= ':' .. run then
  redis.call('DEL', KEYS[1])
  return 0
end
if v ~= ARGV[1] then return 2 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  if ARGV[2] ~= '0-0' then return 3 end
  return 1
end
local md = streamInfo(KEYS[2], 'max-deleted-entry-id')
if md and idLess(ARGV[2], md) then return 3 end
return 1
`)

// Feed is the denylist's port.RevocationFeed.
type Feed struct{ d *Denylist }

var _ port.RevocationFeed = Feed{}

// Feed returns the revocation feed the denylist's writes append to.
func (d *Denylist) Feed() Feed { return Feed{d: d} }

var errGap = domain.Unavailable("redis", port.ErrFeedGap)

// Head returns the current epoch and a position replay before the newest
// entry (by the entries' Redis time).
func (f Feed) Head(ctx context.Context, replay time.Duration) (port.FeedPosition, error) {
	res, err := headScript.Run(ctx, f.d.client, []string{f.d.epochKey(), f.d.logKey()}).Slice()
	if err != nil {
		return port.FeedPosition{}, translate(err)
	}
	if len(res) == 0 {
		return port.FeedPosition{}, domain.Internal(errors.New("feed: head script returned nothing"))
	}
	if ok, _ := res[0].(int64); ok != 1 {
		return port.FeedPosition{}, errCold
	}
	if len(res) != 3 {
		return port.FeedPosition{}, domain.Internal(fmt.Errorf("feed: head script returned %v", res))
	}
	epoch, _ := res[1].(string)
	id, _ := res[2].(string)
	if epoch == "" || id == "" {
		return port.FeedPosition{}, domain.Internal(fmt.Errorf("feed: head script returned %v", res))
	}
	if ms := streamMillis(id); ms > 0 && replay > 0 {
		id = strconv.FormatInt(max(ms-replay.Milliseconds(), 0), 10) + "-0"
	}
	return port.FeedPosition{Epoch: epoch, ID: id}, nil
}

// Follow reads the entries after from (XREAD, blocking up to block when
// there are none), then checks that from's epoch is still the cache's and
// that nothing after from was trimmed. The check comes after the read, so a
// read answered by a Redis that lost its memory (an empty stream, no
// entries) is never taken for "caught up": the epoch it would need is gone.
func (f Feed) Follow(ctx context.Context, from port.FeedPosition, block time.Duration) ([]port.FeedEntry, port.FeedPosition, error) {
	if from.Epoch == "" || from.ID == "" {
		return nil, from, domain.Internal(errors.New("feed: follow from an empty position"))
	}
	var entries []port.FeedEntry
	pos := from
	wait := max(block, time.Millisecond)
	for {
		streams, err := f.d.client.XRead(ctx, &goredis.XReadArgs{
			Streams: []string{f.d.logKey(), pos.ID}, Count: followCount, Block: wait,
		}).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, from, translate(err)
		}
		n := 0
		for _, s := range streams {
			for _, m := range s.Messages {
				n++
				pos.ID = m.ID
				if e, ok := entryOf(m.Values); ok {
					entries = append(entries, e)
				}
			}
		}
		if n < followCount {
			break
		}
		wait = -1 // drain what is there without blocking
	}
	state, err := positionScript.Run(ctx, f.d.client, []string{f.d.epochKey(), f.d.logKey()}, from.Epoch, from.ID).Int64()
	if err != nil {
		return nil, from, translate(err)
	}
	switch state {
	case 1:
		return entries, pos, nil
	case 0:
		return nil, from, errCold
	default:
		return nil, from, errGap
	}
}

// Publish appends API-key invalidations.
func (f Feed) Publish(ctx context.Context, entries ...port.FeedEntry) error {
	args := []any{f.d.retention()}
	for _, e := range entries {
		switch {
		case e.KeyID != "":
			args = append(args, "key", e.KeyID)
		case e.OwnerID != "":
			args = append(args, "owner", e.OwnerID)
		default:
			return domain.Internal(errors.New("feed: publish takes key or owner entries"))
		}
	}
	if len(args) == 1 {
		return nil
	}
	return translate(publishScript.Run(ctx, f.d.client, []string{f.d.logKey()}, args...).Err())
}

// revocationFields are the feed fields of a revocation.
func revocationFields(r session.Revocation) []any {
	f := []any{"k", string(r.Kind), "id", r.ID, "u", unixMillis(r.Until)}
	if r.Kind == session.RevokeUser {
		f = append(f, "nb", strconv.FormatInt(r.NotBefore.Unix(), 10))
	}
	return f
}

// entryOf reads one stream entry; an entry it cannot read (written by a
// newer version, or damaged) is skipped: false.
func entryOf(v map[string]any) (port.FeedEntry, bool) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	kind, id := str("k"), str("id")
	if id == "" {
		return port.FeedEntry{}, false
	}
	switch kind {
	case "key":
		return port.FeedEntry{KeyID: id}, true
	case "owner":
		return port.FeedEntry{OwnerID: id}, true
	}
	r := session.Revocation{Kind: session.RevocationKind(kind), ID: id}
	if !r.Kind.Valid() {
		return port.FeedEntry{}, false
	}
	until, err := strconv.ParseInt(str("u"), 10, 64)
	if err != nil {
		return port.FeedEntry{}, false
	}
	r.Until = time.UnixMilli(until).UTC()
	if r.Kind == session.RevokeUser {
		nb, err := strconv.ParseInt(str("nb"), 10, 64)
		if err != nil {
			return port.FeedEntry{}, false
		}
		r.NotBefore = time.Unix(nb, 0).UTC()
	}
	return port.FeedEntry{Revocation: r}, true
}

// streamMillis is the millisecond part of a stream ID.
func streamMillis(id string) int64 {
	ms, _, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return n
}
