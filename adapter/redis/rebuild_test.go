package redis_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

// readyDenylist is a denylist over a fresh prefix, built (from an empty
// record) as the service builds it at start: a prefix nobody built is cold,
// and a cold denylist refuses every check.
func readyDenylist(tb testing.TB, client goredis.UniversalClient, prefix string, clock port.Clock) *redis.Denylist {
	tb.Helper()
	d := redis.NewDenylist(client, prefix, clock)
	if err := d.Rebuild(context.Background(), memory.NewRevocationRecord()); err != nil {
		tb.Fatalf("build the denylist: %v", err)
	}
	return d
}

// forget deletes every key under prefix: what the denylist sees of a Redis
// that lost its memory.
func forget(tb testing.TB, client goredis.UniversalClient, prefix string) {
	tb.Helper()
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestDenylistRebuildContract(t *testing.T) {
	porttest.DenylistRebuild(t, func(t *testing.T, clock *memory.Clock) (porttest.RebuildableDenylist, func() porttest.RebuildableDenylist) {
		client, prefix := testenv.Redis(t)
		d := readyDenylist(t, client, prefix, clock)
		return d, func() porttest.RebuildableDenylist { forget(t, client, prefix); return d }
	})
}

func wantCold(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, domain.ErrUnavailable) || !errors.Is(err, port.ErrDenylistCold) {
		t.Fatalf("%s on a cold denylist = %v, want ErrUnavailable wrapping ErrDenylistCold", what, err)
	}
}

// A Redis that lost its memory holds no epoch: every check fails closed, and
// so does a refresh claim, even of a token it would otherwise accept; the
// gate spends no budget; denials are still written (they are in the record
// too, and the rebuild merges with them).
func TestColdDenylistFailsClosed(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	d := redis.NewDenylist(client, prefix, clock)
	gate, err := redis.NewGate(client, prefix, clock, 60, 5)
	if err != nil {
		t.Fatal(err)
	}
	c := tokenClaims(clock.Now())

	wantCold(t, "Ready", d.Ready(ctx))
	wantCold(t, "Check", d.Check(ctx, c))
	_, err = d.ClaimRefresh(ctx, c.TokenID, "successor", 10*time.Second, c.ExpiresAt)
	wantCold(t, "ClaimRefresh", err)
	_, err = gate.CheckAndSpend(ctx, c, "user:"+c.UserID)
	wantCold(t, "CheckAndSpend", err)
	if n, err := client.Exists(ctx, prefix+"{deny}:rate:user:"+c.UserID, prefix+"{deny}:refresh:"+c.TokenID).Result(); err != nil || n != 0 {
		t.Fatalf("a cold denylist wrote a budget or a claim (%d keys, %v)", n, err)
	}
	if err := d.DenySession(ctx, c.SessionID, c.ExpiresAt); err != nil {
		t.Fatalf("DenySession on a cold denylist = %v, want nil", err)
	}

	if err := d.Rebuild(ctx, memory.NewRevocationRecord()); err != nil {
		t.Fatal(err)
	}
	if err := d.Ready(ctx); err != nil {
		t.Fatalf("Ready after rebuild = %v", err)
	}
	if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("the session denied while cold: Check = %v, want ErrUnauthenticated", err)
	}
	if err := d.Check(ctx, tokenClaims(clock.Now())); err != nil {
		t.Fatalf("a live token after rebuild: Check = %v", err)
	}

	forget(t, client, prefix) // lose it again: noticed at once
	wantCold(t, "Check after a second loss", d.Check(ctx, tokenClaims(clock.Now())))
}

// countingRecord counts full reads of the record and can run a hook inside
// one (after its first revocation).
type countingRecord struct {
	port.RevocationRecord
	reads  atomic.Int64
	during func(read int64)
}

func (r *countingRecord) InForce(ctx context.Context, now time.Time, fn func(session.Revocation) error) error {
	n := r.reads.Add(1)
	first := true
	return r.RevocationRecord.InForce(ctx, now, func(rev session.Revocation) error {
		if first && r.during != nil {
			first = false
			r.during(n)
		}
		return fn(rev)
	})
}

func seededRecord(t testing.TB, clock port.Clock, n int) (*memory.RevocationRecord, []session.Claims) {
	t.Helper()
	rec := memory.NewRevocationRecord()
	revoked := make([]session.Claims, n)
	for i := range revoked {
		c := tokenClaims(clock.Now())
		revoked[i] = c
		if err := rec.Revoke(context.Background(), session.Revocation{Kind: session.RevokeSession, ID: c.SessionID, Until: c.ExpiresAt}); err != nil {
			t.Fatal(err)
		}
	}
	return rec, revoked
}

// Four instances find the denylist cold at once: one reads the record and
// fills Redis, the other three wait for its epoch instead of rebuilding too.
func TestRebuildIsDoneByOneInstanceWhileTheOthersWait(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	seed, revoked := seededRecord(t, clock, 3000)
	rec := &countingRecord{RevocationRecord: seed}
	const instances = 4
	errs := make(chan error, instances)
	start := make(chan struct{})
	// OnRebuilt runs once, on the instance that rebuilt, after the epoch.
	var hooks atomic.Int32
	hookErr := make(chan error, instances)
	for range instances {
		go func() {
			<-start
			d := redis.NewDenylist(client, prefix, clock)
			d.OnRebuilt(func(ctx context.Context) {
				hooks.Add(1)
				hookErr <- d.Ready(ctx)
			})
			errs <- d.Rebuild(ctx, rec)
		}()
	}
	close(start)
	for range instances {
		if err := <-errs; err != nil {
			t.Fatalf("Rebuild = %v", err)
		}
	}
	if n := rec.reads.Load(); n != 1 {
		t.Fatalf("the record was read %d times by %d instances, want once", n, instances)
	}
	if n := hooks.Load(); n != 1 {
		t.Fatalf("OnRebuilt ran %d times on %d instances, want once", n, instances)
	}
	if err := <-hookErr; err != nil {
		t.Fatalf("in OnRebuilt, Ready = %v, want nil (the epoch written first)", err)
	}
	d := redis.NewDenylist(client, prefix, clock)
	for _, c := range revoked {
		if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("revoked session after rebuild: Check = %v", err)
		}
	}
	if n, err := client.Exists(ctx, prefix+"{deny}:rebuild").Result(); err != nil || n != 0 {
		t.Fatalf("the rebuild lock is still held after the rebuild (%d, %v)", n, err)
	}
}

// Redis loses its memory again while the rebuild is filling it: the epoch is
// not written over the partial copy; the rebuild starts over and ends
// complete.
func TestRebuildStartsOverWhenRedisLosesItsMemoryMidway(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	seed, revoked := seededRecord(t, clock, 2500) // three batches
	rec := &countingRecord{RevocationRecord: seed}
	rec.during = func(read int64) {
		if read == 1 {
			forget(t, client, prefix)
		}
	}
	d := redis.NewDenylist(client, prefix, clock)
	// The first read loses the lock with everything else before its first
	// batch; the flush notices, and the second read fills it for good.
	if err := d.Rebuild(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if n := rec.reads.Load(); n != 2 {
		t.Fatalf("record read %d times, want 2 (one lost, one complete)", n)
	}
	for _, c := range revoked {
		if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("revoked session after the second fill: Check = %v", err)
		}
	}
}

// An instance that finds the lock taken waits for the epoch, and gives up
// (503) when its context ends first rather than rebuilding beside it.
func TestRebuildWaitsForTheLockHolder(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	if err := client.Set(ctx, prefix+"{deny}:rebuild", "another-instance", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	rec := &countingRecord{RevocationRecord: memory.NewRevocationRecord()}
	d := redis.NewDenylist(client, prefix, clock)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := d.Rebuild(short, rec); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Rebuild while another holds the lock = %v, want ErrUnavailable when ctx ends", err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Rebuild(ctx, rec) }()
	time.Sleep(100 * time.Millisecond) // it polls; the holder finishes meanwhile
	if err := client.Set(ctx, prefix+"{deny}:epoch", "1:built-by-another-instance:"+runID(t, client), 0).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Rebuild after the holder finished = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Rebuild kept waiting after the epoch was written")
	}
	if n := rec.reads.Load(); n != 0 {
		t.Fatalf("the waiting instance read the record %d times, want 0", n)
	}
}

// runID is the run_id of the Redis process behind client.
func runID(t *testing.T, client goredis.UniversalClient) string {
	t.Helper()
	info, err := client.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v
		}
	}
	t.Fatalf("no run_id in INFO server: %q", info)
	return ""
}

// An epoch another Redis process wrote (the data came back from an RDB/AOF
// snapshot, or through a failover, and may miss what came after) does not
// count: Ready deletes it, and every check fails closed until the rebuild.
func TestAnEpochFromAnotherRedisProcessIsCold(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	d := readyDenylist(t, client, prefix, clock)
	epoch, err := client.Get(ctx, prefix+"{deny}:epoch").Result()
	if err != nil || !strings.HasSuffix(epoch, ":"+runID(t, client)) {
		t.Fatalf("epoch %q (%v), want it to end with this Redis's run_id", epoch, err)
	}
	if err := client.Set(ctx, prefix+"{deny}:epoch", "1:restored:0123456789abcdef0123456789abcdef01234567", 0).Err(); err != nil {
		t.Fatal(err)
	}
	wantCold(t, "Ready over a restored epoch", d.Ready(ctx))
	wantCold(t, "Check after that", d.Check(ctx, tokenClaims(clock.Now())))
	if err := d.Rebuild(ctx, memory.NewRevocationRecord()); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(ctx, tokenClaims(clock.Now())); err != nil {
		t.Fatalf("after the rebuild: %v", err)
	}
}

// BenchmarkDenylistRebuild100k measures refilling Redis with 100,000
// revocations (sessions, tokens and users in equal parts) from an in-process
// record: the Redis side of a rebuild. The Postgres-to-Redis rebuild is
// BenchmarkRevocationRebuild100k in test/e2e.
func BenchmarkDenylistRebuild100k(b *testing.B) {
	ctx := context.Background()
	client, prefix := testenv.Redis(b)
	clock := memory.NewClock(time.Now())
	rec := memory.NewRevocationRecord()
	kinds := []session.RevocationKind{session.RevokeSession, session.RevokeToken, session.RevokeUser}
	for i := range 100_000 {
		r := session.Revocation{Kind: kinds[i%3], ID: domain.NewID(), Until: clock.Now().Add(15 * time.Minute)}
		if r.Kind == session.RevokeUser {
			r.NotBefore = clock.Now()
		}
		if err := rec.Revoke(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	d := redis.NewDenylist(client, prefix, clock)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		forget(b, client, prefix)
		b.StartTimer()
		if err := d.Rebuild(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100_000/(b.Elapsed().Seconds()/float64(b.N)), "revocations/s")
}

// Invalidate drops the epoch: every instance fails closed until a rebuild.
func TestInvalidateMakesTheDenylistCold(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	clock := memory.NewClock(time.Now())
	a, b := readyDenylist(t, client, prefix, clock), redis.NewDenylist(client, prefix, clock)
	if err := a.Invalidate(ctx); err != nil {
		t.Fatal(err)
	}
	wantCold(t, "Check on another instance after Invalidate", b.Check(ctx, tokenClaims(clock.Now())))
	if err := b.Rebuild(ctx, memory.NewRevocationRecord()); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(ctx, tokenClaims(clock.Now())); err != nil {
		t.Fatalf("after the rebuild: %v", err)
	}
}

// On Redis Cluster every denylist key, the epoch and the lock among them,
// is in the {deny} slot: the check (epoch included), the claim, the gate,
// Ready and the rebuild's batch scripts all run there.
func TestDenylistRebuildOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster: integration test, not run with -short")
	}
	ctx := context.Background()
	client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: testenv.StartRedisCluster(t, 3)})
	t.Cleanup(func() { _ = client.Close() })
	clock := memory.NewClock(time.Now())
	const prefix = "cluster:"
	d := redis.NewDenylist(client, prefix, clock)
	seed, revoked := seededRecord(t, clock, 1500) // two batches
	wantCold(t, "Check before the build", d.Check(ctx, revoked[0]))
	if err := d.Rebuild(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if err := d.Ready(ctx); err != nil {
		t.Fatalf("Ready after the rebuild on a cluster: %v", err)
	}
	gate, err := redis.NewGate(client, prefix, clock, 60, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range revoked[:10] {
		if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("revoked session on a cluster: Check = %v", err)
		}
		if _, err := gate.CheckAndSpend(ctx, c, "user:"+c.UserID); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("revoked session through the gate on a cluster: %v", err)
		}
	}
	live := tokenClaims(clock.Now())
	if _, err := gate.CheckAndSpend(ctx, live, "user:"+live.UserID); err != nil {
		t.Fatalf("live token through the gate on a cluster: %v", err)
	}
	if _, err := d.ClaimRefresh(ctx, live.TokenID, "successor", 10*time.Second, live.ExpiresAt); err != nil {
		t.Fatalf("refresh claim on a cluster: %v", err)
	}
	if err := d.Invalidate(ctx); err != nil {
		t.Fatal(err)
	}
	wantCold(t, "Check after Invalidate on a cluster", d.Check(ctx, live))
}
