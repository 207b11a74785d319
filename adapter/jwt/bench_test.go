package jwt_test

import (
	"testing"
	"time"

	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
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

func BenchmarkVerify(b *testing.B) {
	s, clk := newService(b, jwt.Config{})
	tok, err := s.Issue(benchClaims(clk.Now()))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
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
	for b.Loop() {
		if _, err := s.Verify(forged); err == nil {
			b.Fatal("forged token verified")
		}
	}
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
