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
// script call), either as two round trips, as today, or as one pipeline.
//
//	go test -run XXX -bench JWTRequest -benchtime 3s ./adapter/redis/

// shaHook records the SHA of the scripts a client runs with EVALSHA, so the
// pipelined variant runs redis_rate's own GCRA script, not a copy.
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
	sha      string
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
	return &jwtRequestBench{client: client, prefix: prefix, denylist: redis.NewDenylist(client, prefix, clock), limiter: limiter, sha: hook.sha}
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
	rateKey := jb.prefix + "rate:user:" + c.UserID
	b.ResetTimer()
	for b.Loop() {
		pipe := jb.client.Pipeline()
		mget := pipe.MGet(ctx, keys...)
		gcra := pipe.EvalSha(ctx, jb.sha, []string{rateKey}, 10_000_000, 600_000_000, 60.0, 1)
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
	rateKey := jb.prefix + "rate:user:" + c.UserID
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			pipe := jb.client.Pipeline()
			pipe.MGet(ctx, keys...)
			pipe.EvalSha(ctx, jb.sha, []string{rateKey}, 10_000_000, 600_000_000, 60.0, 1)
			if _, err := pipe.Exec(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkJWTRequestInterleaved alternates the two variants request by
// request and reports each one's median and 90th percentile, so that load
// from other processes (which moves the separate benchmarks above by 2-3x
// between runs on a shared machine) hits both alike.
func BenchmarkJWTRequestInterleaved(b *testing.B) {
	jb := newJWTRequestBench(b)
	c := tokenClaims(time.Now())
	ctx := context.Background()
	deny := jb.prefix + "{deny}:"
	keys := []string{deny + "jti:" + c.TokenID, deny + "sid:" + c.SessionID, deny + "nbf:" + c.UserID}
	rateKey := jb.prefix + "rate:user:" + c.UserID
	two := func() {
		if err := jb.denylist.Check(ctx, c); err != nil {
			b.Fatal(err)
		}
		if _, err := jb.limiter.Allow(ctx, "user:"+c.UserID); err != nil {
			b.Fatal(err)
		}
	}
	one := func() {
		pipe := jb.client.Pipeline()
		pipe.MGet(ctx, keys...)
		pipe.EvalSha(ctx, jb.sha, []string{rateKey}, 10_000_000, 600_000_000, 60.0, 1)
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var twoD, oneD []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		first, second, fd, sd := two, one, &twoD, &oneD
		if i%2 == 1 {
			first, second, fd, sd = one, two, &oneD, &twoD
		}
		t0 := time.Now()
		first()
		t1 := time.Now()
		second()
		*fd = append(*fd, t1.Sub(t0))
		*sd = append(*sd, time.Since(t1))
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), name+"-p50-µs")
		b.ReportMetric(float64(d[len(d)*9/10].Microseconds()), name+"-p90-µs")
	}
	report("2rtt", twoD)
	report("1rtt", oneD)
}
