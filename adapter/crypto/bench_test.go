package crypto_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
)

// Password verification dominates login; these benchmarks measure it with
// the parameters the server uses by default (OWASP's 19 MiB, t=2, p=1),
// serially and at the hasher's concurrency cap, so the load run's login
// throughput can be read against what the hash alone allows.
//
//	go test -run '^$' -bench Argon2 -benchmem ./adapter/crypto/

const benchPassword = "correct horse battery staple"

// newBenchHasher returns a default-parameter hasher capped at maxConcurrent
// and a hash of benchPassword. The queue timeout is generous so that
// oversubscribed runs measure queueing, not 503s.
func newBenchHasher(b *testing.B, maxConcurrent int) (*crypto.Argon2Hasher, string) {
	b.Helper()
	h := crypto.NewArgon2Hasher(crypto.HasherConfig{
		Params:        crypto.DefaultArgon2Params,
		MaxConcurrent: maxConcurrent,
		QueueTimeout:  time.Minute,
	})
	enc, err := h.Hash(context.Background(), benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	return h, enc
}

func verifyOrFail(b *testing.B, h *crypto.Argon2Hasher, enc string) bool {
	ok, rehash, err := h.Verify(context.Background(), benchPassword, enc)
	if err != nil || !ok || rehash {
		b.Errorf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
		return false
	}
	return true
}

func BenchmarkArgon2VerifySerial(b *testing.B) {
	h, enc := newBenchHasher(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if !verifyOrFail(b, h, enc) {
			return
		}
	}
}

// BenchmarkArgon2VerifyParallelAtCap runs one goroutine per hashing slot
// (the server's default cap is NumCPU): the hasher's best throughput.
func BenchmarkArgon2VerifyParallelAtCap(b *testing.B) {
	h, enc := newBenchHasher(b, runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !verifyOrFail(b, h, enc) {
				return
			}
		}
	})
}

// BenchmarkArgon2VerifyParallel32 runs 32 callers (the load run's
// concurrency) against the same cap: throughput should match AtCap, the
// excess callers queue on the semaphore instead of adding 19 MiB each.
func BenchmarkArgon2VerifyParallel32(b *testing.B) {
	h, enc := newBenchHasher(b, runtime.GOMAXPROCS(0))
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !verifyOrFail(b, h, enc) {
				return
			}
		}
	})
}
