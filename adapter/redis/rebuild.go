package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// The rebuild's tuning. The lock only saves duplicated work: the entries a
// rebuild writes merge with what is there (the later until, the later
// not-before win), so two rebuilders at once, or a revocation written while
// one runs, are harmless.
const (
	// rebuildLockTTL bounds how long a rebuilder that died holds the others
	// up; a live one extends it with every batch.
	rebuildLockTTL = 10 * time.Second
	// rebuildBatch is how many entries one round trip carries (a script
	// call over a batch holds Redis for about a millisecond).
	rebuildBatch = 1000
	// rebuildPoll is how often a waiting instance looks for the epoch.
	rebuildPoll = 50 * time.Millisecond
)

var _ port.RevocationCache = (*Denylist)(nil)

// runIDLua sets run to the run_id of the Redis process running the script
// (nil where INFO is not allowed): it changes with every restart and
// differs on a promoted replica.
const runIDLua = `
local info = redis.pcall('INFO', 'server')
local run = type(info) == 'string' and string.match(info, 'run_id:(%w+)') or nil
`

// readyScript reports whether the epoch (KEYS[1]) is there and was written
// by this Redis process. An epoch written by another one came back from a
// snapshot (RDB/AOF) or through a failover: the data with it may lack what
// was written after the snapshot, or was not replicated yet. Such an epoch
// is deleted, so every instance fails closed and the cache is rebuilt.
var readyScript = newScript(runIDLua + `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if run and string.sub(v, -#run - 1) ~= ':' .. run then
  redis.call('DEL', KEYS[1])
  return 0
end
return 1
`)

// Ready reads the epoch and checks it was written by the Redis process
// that holds it now (one script call).
func (d *Denylist) Ready(ctx context.Context) error {
	n, err := readyScript.Run(ctx, d.client, []string{d.epochKey()}).Int64()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return errCold
	}
	return nil
}

// Invalidate deletes the epoch.
func (d *Denylist) Invalidate(ctx context.Context) error {
	return translate(d.client.Del(ctx, d.epochKey()).Err())
}

// lockScript extends the rebuild lock (KEYS[1]) by ARGV[2] ms, or with
// ARGV[2] = 0 releases it, if it still holds our id ARGV[1]; 0 when it does
// not (it expired, or Redis lost its memory again and the lock with it).
var lockScript = newScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
`)

// finishScript writes the epoch (KEYS[2] := ARGV[2] and this Redis
// process's run_id) and releases the lock (KEYS[1]) if the lock still holds
// our id (ARGV[1]). Were the lock gone, Redis lost its memory during the
// rebuild, and an epoch written now would vouch for a copy missing what was
// written before that loss.
var finishScript = newScript(runIDLua + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2] .. ':' .. (run or 'unknown'))
redis.call('DEL', KEYS[1])
return 1
`)

// Rebuild refills the denylist from record when its epoch is missing: the
// instance that takes the rebuild lock writes every revocation in force, in
// pipelined batches, then the epoch; the others poll for the epoch (or for
// the lock to fall free, should the rebuilder die) until ctx ends.
func (d *Denylist) Rebuild(ctx context.Context, record port.RevocationRecord) error {
	for {
		err := d.Ready(ctx)
		if !errors.Is(err, port.ErrDenylistCold) {
			return err // ready (nil), or Redis unreachable
		}
		id := domain.NewID()
		took, err := d.client.SetNX(ctx, d.lockKey(), id, rebuildLockTTL).Result()
		if err != nil {
			return translate(err)
		}
		if !took {
			select {
			case <-ctx.Done():
				return domain.Unavailable("redis", fmt.Errorf("waiting for another instance's rebuild: %w", ctx.Err()))
			case <-time.After(rebuildPoll):
			}
			continue
		}
		// Check again under the lock: an instance that saw the cache cold
		// just before another finished its rebuild (and let go of the lock)
		// must not read the whole record a second time.
		if err := d.Ready(ctx); !errors.Is(err, port.ErrDenylistCold) {
			_ = lockScript.Run(context.WithoutCancel(ctx), d.client, []string{d.lockKey()}, id, "0").Err()
			return err
		}
		done, err := d.fill(ctx, id, record)
		if err != nil {
			// Let another instance (or our next attempt) start at once.
			release := context.WithoutCancel(ctx)
			_ = lockScript.Run(release, d.client, []string{d.lockKey()}, id, "0").Err()
			return err
		}
		if done {
			if d.onRebuilt != nil {
				d.onRebuilt(ctx)
			}
			return nil
		}
		// The lock was lost mid-way: start over.
	}
}

// OnRebuilt sets fn to run after each rebuild, by the one instance that did
// it, once the epoch is written (tokens are judged again meanwhile), within
// the rebuild's ctx: for other caches kept in the same Redis that are
// rebuilt from durable data too (the login throttle's known clients). fn
// reports its own failures. Set it before the first Rebuild.
func (d *Denylist) OnRebuilt(fn func(ctx context.Context)) {
	d.onRebuilt = fn
}

// fill writes every revocation of record in force into the denylist under
// the lock id, then the epoch. It reports false when the lock was lost.
func (d *Denylist) fill(ctx context.Context, id string, record port.RevocationRecord) (bool, error) {
	// A Redis that lost its memory lost its script cache too; the batches
	// below send EVALSHA, so load the two scripts first.
	denySHA, err := denyScript.Load(ctx, d.client).Result()
	if err != nil {
		return false, translate(err)
	}
	nbfSHA, err := nbfScript.Load(ctx, d.client).Result()
	if err != nil {
		return false, translate(err)
	}
	now := d.clock.Now()
	nowMs := unixMillis(now)
	// One batch is one round trip: a denyScript call over its token and
	// session entries, an nbfScript call over its users, and the lock's
	// extension, pipelined.
	var denyKeys, nbfKeys []string
	var denyArgs, nbfArgs []any
	reset := func() {
		denyKeys, denyArgs = denyKeys[:0], denyArgs[:0]
		nbfKeys, nbfArgs = nbfKeys[:0], append(nbfArgs[:0], nowMs)
	}
	reset()
	flush := func() (bool, error) {
		pipe := d.client.Pipeline()
		if len(denyKeys) > 0 {
			pipe.EvalSha(ctx, denySHA, denyKeys, denyArgs...)
		}
		if len(nbfKeys) > 0 {
			pipe.EvalSha(ctx, nbfSHA, nbfKeys, nbfArgs...)
		}
		held := lockScript.Eval(ctx, pipe, []string{d.lockKey()}, id, rebuildLockTTL.Milliseconds())
		if _, err := pipe.Exec(ctx); err != nil {
			return false, translate(err)
		}
		reset()
		n, err := held.Int64()
		return n == 1, translate(err)
	}
	errLost := errors.New("rebuild lock lost")
	err = record.InForce(ctx, now, func(r session.Revocation) error {
		ttl := ttlMillis(r.Until, now)
		if ttl == 0 {
			return nil
		}
		switch r.Kind {
		case session.RevokeToken:
			denyKeys, denyArgs = append(denyKeys, d.jtiKey(r.ID)), append(denyArgs, unixMillis(r.Until), ttl)
		case session.RevokeSession:
			denyKeys, denyArgs = append(denyKeys, d.sidKey(r.ID)), append(denyArgs, unixMillis(r.Until), ttl)
		case session.RevokeUser:
			nbfKeys = append(nbfKeys, d.nbfKey(r.ID))
			nbfArgs = append(nbfArgs, strconv.FormatInt(r.NotBefore.Unix(), 10), unixMillis(r.Until))
		default:
			return domain.Internal(fmt.Errorf("denylist: unknown revocation kind %q", r.Kind))
		}
		if len(denyKeys)+len(nbfKeys) < rebuildBatch {
			return nil
		}
		held, err := flush()
		if err == nil && !held {
			err = errLost
		}
		return err
	})
	if errors.Is(err, errLost) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if held, err := flush(); err != nil || !held {
		return false, err
	}
	epoch := nowMs + ":" + id
	n, err := finishScript.Run(ctx, d.client, []string{d.lockKey(), d.epochKey()}, id, epoch).Int64()
	if err != nil {
		return false, translate(err)
	}
	return n == 1, nil
}
