package jwt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/test/testenv"
)

// The benchmarks below price the JWT work on every authenticated request
// (Verify) and on every login and refresh (Issue), with the production
// algorithm and claim set; `make bench` prints them next to the load run.
//
//	go test -run '^$' -bench . -benchmem ./adapter/jwt/

func BenchmarkIssue(b *testing.B) {
	s, clk := newService(b, jwt.Config{})
	c := benchClaims(clk.Now())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the same token again, as a client presents it on
// every request: after the first, an answer of the verified-token cache.
func BenchmarkVerify(b *testing.B) {
	benchVerify(b, jwt.Config{})
}

// BenchmarkVerifyUncached is the full check every time (cache off): base64
// and JSON decoding of header and claims, the HMAC, the claim checks.
func BenchmarkVerifyUncached(b *testing.B) {
	benchVerify(b, jwt.Config{VerifiedCache: -1})
}

func benchVerify(b *testing.B, cfg jwt.Config) {
	s, clk := newService(b, cfg)
	tok, err := s.Issue(benchClaims(clk.Now()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := testenv.StartCPU(b)
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report()
}

// BenchmarkVerifyCacheMiss cycles through more distinct tokens than the
// cache holds, so every Verify misses, verifies in full and inserts: what
// the cache adds to the full check when it never helps. Its "off" twin
// cycles through the same tokens with the cache off (same memory traffic).
func BenchmarkVerifyCacheMiss(b *testing.B) {
	const size = 1000
	b.Run("on", func(b *testing.B) { benchVerifyMany(b, size, 3*size) })
	b.Run("off", func(b *testing.B) { benchVerifyMany(b, -1, 3*size) })
}

func benchVerifyMany(b *testing.B, cacheSize, tokens int) {
	s, clk := newService(b, jwt.Config{VerifiedCache: cacheSize})
	toks := make([]string, tokens)
	for i := range toks {
		c := benchClaims(clk.Now())
		c.TokenID = fmt.Sprintf("%s%05d", c.TokenID[:27], i)
		tok, err := s.Issue(c)
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = tok
	}
	b.ReportAllocs()
	cpu := testenv.StartCPU(b)
	i := 0
	for b.Loop() {
		if _, err := s.Verify(toks[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(toks)
	}
	cpu.Report()
}

// BenchmarkVerifyParallel is the cached Verify from every P at once (the
// cache's read lock is shared by all requests).
func BenchmarkVerifyParallel(b *testing.B) {
	s, clk := newService(b, jwt.Config{})
	tok, err := s.Issue(benchClaims(clk.Now()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := testenv.StartCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Verify(tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.Report()
}

// BenchmarkVerifyRejectForged is the cost of turning away a token with a bad
// signature: what an attacker spraying tokens makes the server spend.
func BenchmarkVerifyRejectForged(b *testing.B) {
	s, clk := newService(b, jwt.Config{})
	tok, err := s.Issue(benchClaims(clk.Now()))
	if err != nil {
		b.Fatal(err)
	}
	forged := tok[:len(tok)-2] + flipLast(tok[len(tok)-2:])
	b.ReportAllocs()
	cpu := testenv.StartCPU(b)
	for b.Loop() {
		if _, err := s.Verify(forged); err == nil {
			b.Fatal("forged token verified")
		}
	}
	cpu.Report()
}

// flipLast changes the first character of a two-character signature tail
// so the HMAC no longer matches (the last base64url character may carry
// padding bits only, so it is left alone).
func flipLast(tail string) string {
	c := tail[0]
	if c == 'A' {
		c = 'B'
	} else {
		c = 'A'
	}
	return string(c) + tail[1:]
}

// benchClaims are the claims login issues: a 128-bit jti, session and user
// IDs of the length domain.NewID makes, and the username and role claims.
func benchClaims(now time.Time) session.Claims {
	c := claimsAt(now)
	c.SessionID = "5f0c8e2a9b7d4c1e8a3f6b2d9c0e1a47"
	c.UserID = "9a1b2c3d4e5f60718293a4b5c6d7e8f9"
	c.Username = "admin"
	c.Role = user.RoleAdmin
	return c
}
