package revocation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Denylist is the service's port.TokenDenylist over a durable record and a
// fast cache. A denial is recorded first and cached second, so a cache that
// is lost after the call answered is rebuilt with it; a refresh claim is
// arbitrated by the cache (atomic, with its grace for racing tabs) and
// recorded before any caller is handed the successor. Check reads the cache
// alone: one round trip, as before. A check that finds the cache cold asks
// the Rebuilder to refill it.
type Denylist struct {
	record    port.RevocationRecord
	cache     port.TokenDenylist
	rebuilder *Rebuilder // nil: nobody to tell
	follower  *Follower  // nil: every check asks the cache
}

var _ port.TokenDenylist = (*Denylist)(nil)

// NewDenylist returns the durable denylist. rebuilder may be nil.
func NewDenylist(record port.RevocationRecord, cache port.TokenDenylist, rebuilder *Rebuilder) *Denylist {
	return &Denylist{record: record, cache: cache, rebuilder: rebuilder}
}

// WithFollower makes Check answer from f's in-process set while f is
// fresh, and every write wait f's lease (commit-wait, see Commit) before
// it counts as done. Call it before use.
func (d *Denylist) WithFollower(f *Follower) *Denylist {
	d.follower = f
	return d
}

// Check answers from the follower's set while it is fresh (no round trip),
// and asks the cache otherwise.
func (d *Denylist) Check(ctx context.Context, c session.Claims) error {
	if d.follower != nil {
		if err, ok := d.follower.Check(ctx, c); ok {
			return err
		}
	}
	err := d.cache.Check(ctx, c)
	d.rebuilder.Notice(err)
	return err
}

// DenyToken records, then caches, the denial of jti.
func (d *Denylist) DenyToken(ctx context.Context, jti string, until time.Time) error {
	if err := d.record.Revoke(ctx, session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until}); err != nil {
		return err
	}
	return d.cached(ctx, d.cache.DenyToken(ctx, jti, until))
}

// DenySession records, then caches, the denial of sid.
func (d *Denylist) DenySession(ctx context.Context, sid string, until time.Time) error {
	if err := d.record.Revoke(ctx, session.Revocation{Kind: session.RevokeSession, ID: sid, Until: until}); err != nil {
		return err
	}
	return d.cached(ctx, d.cache.DenySession(ctx, sid, until))
}

// DenyUserBefore records, then caches, the user's not-before.
func (d *Denylist) DenyUserBefore(ctx context.Context, userID string, notBefore, until time.Time) error {
	r := session.Revocation{Kind: session.RevokeUser, ID: userID, NotBefore: notBefore, Until: until}
	if err := d.record.Revoke(ctx, r); err != nil {
		return err
	}
	return d.cached(ctx, d.cache.DenyUserBefore(ctx, userID, notBefore, until))
}

// cached passes on the answer of a cache write made after the record write:
// when it failed, the cache is behind the record, so the Rebuilder is told
// to invalidate and rebuild it (every instance fails closed meanwhile).
func (d *Denylist) cached(ctx context.Context, err error) error {
	if err != nil {
		d.rebuilder.Behind()
		return err
	}
	d.committed(ctx)
	return nil
}

// committed notes a write the feed acknowledged: the call answers once the
// follower's lease has passed (commit-wait).
func (d *Denylist) committed(ctx context.Context) {
	if d.follower != nil {
		noteWrite(ctx, d.follower.Lease())
	}
}

// ClaimRefresh claims in the cache, then records the winner. Every caller
// that is handed the successor (the winner and the racers inside the grace)
// records it first; the record accepts the same successor again, and refuses
// another one (a claim the cache forgot) with domain.ErrUnauthenticated, so
// no token is ever refreshed twice into two sessions' worth of successors.
func (d *Denylist) ClaimRefresh(ctx context.Context, jti, successor string, grace time.Duration, until time.Time) (string, error) {
	winner, err := d.cache.ClaimRefresh(ctx, jti, successor, grace, until)
	if err != nil {
		d.rebuilder.Notice(err)
		return "", err
	}
	if err := d.record.ClaimRefresh(ctx, jti, successorDigest(winner), until); err != nil {
		return "", err
	}
	// Commit-wait as for every revocation (contract §4: once the refresh
	// has answered, any use of the old token gets 401, on every instance).
	// The client's other requests with the old token meanwhile get 401;
	// the console waits for its refresh and sends them again.
	d.committed(ctx)
	return winner, nil
}

// successorDigest names a successor token in the record without storing
// the token: the record is a durable store, and a token there would be a
// credential at rest for its whole lifetime.
func successorDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
