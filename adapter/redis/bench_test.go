package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/test/testenv"
)

// Each JWT request costs the revocation check (one MGET of the jti, sid and
// user entries) and, with rate limiting on, one GCRA script call. These
// benchmarks price each on its own against the real Redis; the two
// together, as two round trips or one pipeline, are in gate_bench_test.go.
//
//	go test -run '^$' -bench 'Denylist|RateLimit' -benchmem ./adapter/redis/

func BenchmarkDenylistCheck(b *testing.B) {
	client, prefix := testenv.Redis(b)
	clock := memory.NewClock(time.Now())
	d := readyDenylist(b, client, prefix, clock)
	c := tokenClaims(clock.Now())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Check(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDenylistCheckDenied is the check of a logged-out token: the same
// one round trip, with a value to parse.
func BenchmarkDenylistCheckDenied(b *testing.B) {
	client, prefix := testenv.Redis(b)
	clock := memory.NewClock(time.Now())
	d := readyDenylist(b, client, prefix, clock)
	c := tokenClaims(clock.Now())
	ctx := context.Background()
	if err := d.DenyToken(ctx, c.TokenID, c.ExpiresAt); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Check(ctx, c); !errors.Is(err, domain.ErrUnauthenticated) {
			b.Fatalf("err = %v, want 401", err)
		}
	}
}

// BenchmarkDenylistCheckParallel shows how the client's connection pool
// carries concurrent checks (the server runs one per in-flight request).
func BenchmarkDenylistCheckParallel(b *testing.B) {
	client, prefix := testenv.Redis(b)
	clock := memory.NewClock(time.Now())
	d := readyDenylist(b, client, prefix, clock)
	c := tokenClaims(clock.Now())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := d.Check(ctx, c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRateLimitAllow is one allowed request's GCRA update, under a
// budget the benchmark never exhausts.
func BenchmarkRateLimitAllow(b *testing.B) {
	client, prefix := testenv.Redis(b)
	l, err := redis.NewRateLimiter(client, prefix, 600_000_000, 10_000_000)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := l.Allow(ctx, "user:bench")
		if err != nil || !d.Allowed {
			b.Fatalf("Allow = %+v, %v", d, err)
		}
	}
}
