package redis_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/test/testenv"
)

// The benchmarks below measure what an authenticated JWT request costs in
// Redis: the revocation check (one MGET) plus the rate-limit check (one GCRA
// script call), either as two round trips, as one pipeline (which would
// charge a revoked token's budget), or as the Gate's one script (which
// does not).
//
//	go test -run XXX -bench JWTRequest -benchtime 3s ./adapter/redis/

// shaHook records the SHA of the scripts a client runs with EVALSHA, so the
// pipelined variant runs the limiter's own GCRA script, not a copy.
type shaHook struct{ sha string }

func (h *shaHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *shaHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if strings.EqualFold(cmd.Name(), "evalsha") {
			h.sha, _ = cmd.Args()[1].(string)
		}
		return next(ctx, cmd)
	}
}

func (h *shaHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

type jwtRequestBench struct {
	client   goredis.UniversalClient
	prefix   string
	denylist *redis.Denylist
	limiter  *redis.RateLimiter
	gate     *redis.Gate
	sha      string
}

// The limiter's script arguments for the budget below: T = 1 µs, τ = T ×
// (burst − 1), and where a user's budget lives.
const benchInterval, benchTolerance = 1, 10_000_000 - 1

func (jb *jwtRequestBench) rateKey(userID string) string {
	return jb.prefix + "{deny}:rate:user:" + userID
}

func newJWTRequestBench(b *testing.B) *jwtRequestBench {
	b.Helper()
	client, prefix := testenv.Redis(b)
	clock := memory.NewClock(time.Now())
	// A budget the benchmark never exhausts: every call does the full GCRA
	// write path, as an allowed request does.
	limiter, err := redis.NewRateLimiter(client, prefix, 600_000_000, 10_000_000)
	if err != nil {
		b.Fatal(err)
	}
	hook := &shaHook{}
	client.AddHook(hook)
	if _, err := limiter.Allow(context.Background(), "user:warmup"); err != nil {
		b.Fatal(err)
	}
	if hook.sha == "" {
		b.Fatal("no EVALSHA seen")
	}
	sha := hook.sha // the limiter's script, before the gate runs its own
	denylist := readyDenylist(b, client, prefix, clock)
	gate, err := redis.NewGate(client, prefix, clock, 600_000_000, 10_000_000)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gate.CheckAndSpend(context.Background(), tokenClaims(time.Now()), "user:warmup"); err != nil {
		b.Fatal(err)
	}
	return &jwtRequestBench{client: client, prefix: prefix, denylist: denylist, limiter: limiter, gate: gate, sha: sha}
}

func BenchmarkJWTRequestTwoRoundTrips(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if err := jb.denylist.Check(ctx, c); err != nil {
			b.Fatal(err)
		}
		if d, err := jb.limiter.Allow(ctx, "user:"+c.UserID); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkJWTRequestOnePipeline(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	ctx := context.Background()
	deny := jb.prefix + "{deny}:"
	keys := []string{deny + "jti:" + c.TokenID, deny + "sid:" + c.SessionID, deny + "nbf:" + c.UserID}
	rateKey := jb.rateKey(c.UserID)
	b.ResetTimer()
	for b.Loop() {
		pipe := jb.client.Pipeline()
		mget := pipe.MGet(ctx, keys...)
		gcra := pipe.EvalSha(ctx, jb.sha, []string{rateKey}, benchInterval, benchTolerance)
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if len(mget.Val()) != 3 || gcra.Err() != nil {
			b.Fatal(mget.Val(), gcra.Err())
		}
	}
}

func BenchmarkJWTRequestTwoRoundTripsParallel(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := jb.denylist.Check(ctx, c); err != nil {
				b.Error(err)
				return
			}
			if _, err := jb.limiter.Allow(ctx, "user:"+c.UserID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkJWTRequestOnePipelineParallel(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	deny := jb.prefix + "{deny}:"
	keys := []string{deny + "jti:" + c.TokenID, deny + "sid:" + c.SessionID, deny + "nbf:" + c.UserID}
	rateKey := jb.rateKey(c.UserID)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			pipe := jb.client.Pipeline()
			pipe.MGet(ctx, keys...)
			pipe.EvalSha(ctx, jb.sha, []string{rateKey}, benchInterval, benchTolerance)
			if _, err := pipe.Exec(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkJWTRequestGate(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if d, err := jb.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkJWTRequestGateParallel(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := jb.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkJWTRequestInterleaved runs the three variants request by request,
// in a rotating order, and reports each one's median and 90th percentile,
// so that load from other processes (which moves the separate benchmarks
// above by 2-3x between runs on a shared machine) hits all alike.
func BenchmarkJWTRequestInterleaved(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	ctx := context.Background()
	deny := jb.prefix + "{deny}:"
	keys := []string{deny + "jti:" + c.TokenID, deny + "sid:" + c.SessionID, deny + "nbf:" + c.UserID}
	rateKey := jb.rateKey(c.UserID)
	variants := []struct {
		name string
		run  func()
		took []time.Duration
	}{
		{name: "2rtt", run: func() {
			if err := jb.denylist.Check(ctx, c); err != nil {
				b.Fatal(err)
			}
			if _, err := jb.limiter.Allow(ctx, "user:"+c.UserID); err != nil {
				b.Fatal(err)
			}
		}},
		{name: "pipeline", run: func() {
			pipe := jb.client.Pipeline()
			pipe.MGet(ctx, keys...)
			pipe.EvalSha(ctx, jb.sha, []string{rateKey}, benchInterval, benchTolerance)
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}},
		{name: "gate", run: func() {
			if _, err := jb.gate.CheckAndSpend(ctx, c, "user:"+c.UserID); err != nil {
				b.Fatal(err)
			}
		}},
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range variants {
			v := &variants[(i+j)%len(variants)]
			t0 := time.Now()
			v.run()
			v.took = append(v.took, time.Since(t0))
		}
	}
	b.StopTimer()
	for _, v := range variants {
		slices.Sort(v.took)
		b.ReportMetric(float64(v.took[len(v.took)/2].Microseconds()), v.name+"-p50-µs")
		b.ReportMetric(float64(v.took[len(v.took)*9/10].Microseconds()), v.name+"-p90-µs")
	}
}
