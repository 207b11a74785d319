package jwt_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
)

// verifyBoth runs Verify on a cached and an uncached service (same secret,
// same time) and fails unless they answer alike.
func verifyBoth(t *testing.T, cached, uncached *jwt.Service, token, when string) bool {
	t.Helper()
	c1, err1 := cached.Verify(token)
	c2, err2 := uncached.Verify(token)
	if (err1 == nil) != (err2 == nil) || c1 != c2 {
		t.Fatalf("%s: cached %+v, %v; uncached %+v, %v", when, c1, err1, c2, err2)
	}
	if err1 != nil && !errors.Is(err1, domain.ErrUnauthenticated) {
		t.Fatalf("%s: err = %v", when, err1)
	}
	return err1 == nil
}

// The cache answers exactly as a full verification would, at every moment
// around the token's time claims, the clock moving forward and back: it
// never serves a token past its exp or before its nbf or iat (leeway
// included), whatever it saw before.
func TestVerifiedCacheAnswersAsAFullCheck(t *testing.T) {
	t.Parallel()
	const leeway = 30 * time.Second
	exp := t0.Add(15 * time.Minute)
	edges := []time.Time{}
	for _, base := range []time.Time{t0, t0.Add(2 * time.Minute), exp} {
		for _, d := range []time.Duration{-leeway - time.Second, -leeway, -leeway + time.Nanosecond, -time.Second, -time.Nanosecond, 0, time.Nanosecond, time.Second, leeway - time.Nanosecond, leeway, leeway + time.Second, time.Hour} {
			edges = append(edges, base.Add(d))
		}
	}
	variants := map[string]func() session.Claims{
		"plain": func() session.Claims { return claimsAt(t0) },
		"nbf later": func() session.Claims {
			c := claimsAt(t0)
			c.NotBefore = t0.Add(2 * time.Minute)
			return c
		},
		"iat later": func() session.Claims {
			c := claimsAt(t0.Add(2 * time.Minute))
			c.NotBefore = t0
			c.ExpiresAt = exp
			return c
		},
	}
	for name, claims := range variants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{now: t0}
			cached, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: secretA}}, clk)
			if err != nil {
				t.Fatal(err)
			}
			uncached, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: secretA}, VerifiedCache: -1}, clk)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cached.Issue(claims())
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			accepted, rejected := 0, 0
			for round := range 400 {
				at := edges[rng.IntN(len(edges))]
				clk.Set(at)
				if verifyBoth(t, cached, uncached, tok, fmt.Sprintf("round %d at t0%+v", round, at.Sub(t0))) {
					accepted++
				} else {
					rejected++
				}
			}
			if accepted == 0 || rejected == 0 {
				t.Fatalf("accepted %d, rejected %d: the grid missed a side", accepted, rejected)
			}
		})
	}
}

// A token one byte away from a cached one, or signed by another secret,
// is still refused: the cache is keyed by the exact token.
func TestVerifiedCacheIsExact(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, jwt.Config{})
	tok, err := s.Issue(claimsAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	assertAccepted(t, s, tok)
	assertRejected(t, s, tok[:len(tok)-2]+flipLast(tok[len(tok)-2:]))
	assertRejected(t, s, tok+"A")
	assertRejected(t, s, tok[:len(tok)-1])
	other, _ := newService(t, jwt.Config{Current: jwt.Secret{Key: secretB}})
	assertRejected(t, other, tok) // caches are per service: a rotation drops them
	assertAccepted(t, s, tok)
}

// With the cache off, Verify still works, and the cache's size is what
// the config says.
func TestVerifiedCacheConfig(t *testing.T) {
	t.Parallel()
	for _, size := range []int{-1, 1, 2, 7} {
		s, _ := newService(t, jwt.Config{VerifiedCache: size})
		for i := range 20 {
			c := claimsAt(t0)
			c.TokenID = fmt.Sprintf("%s%02d", jti, i)
			tok, err := s.Issue(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := assertAccepted(t, s, tok); got.TokenID != c.TokenID {
				t.Fatalf("size %d: claims of another token: %+v", size, got)
			}
		}
		if n := jwt.CachedTokens(s); (size < 0 && n != 0) || n > max(size, 1) {
			t.Fatalf("size %d: %d tokens cached", size, n)
		}
	}
}

// The cache stays within its bound however many tokens pass, holds none
// that failed verification, and serves every recent token.
func TestVerifiedCacheIsBounded(t *testing.T) {
	t.Parallel()
	const size = 100
	s, _ := newService(t, jwt.Config{VerifiedCache: size})
	var toks []string
	for i := range 3 * size {
		c := claimsAt(t0)
		c.TokenID = fmt.Sprintf("%s%04d", jti, i)
		tok, err := s.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
		assertAccepted(t, s, tok)
		if n := jwt.CachedTokens(s); n > size {
			t.Fatalf("after %d tokens the cache holds %d, bound %d", i+1, n, size)
		}
	}
	before := jwt.CachedTokens(s)
	for _, tok := range toks[:10] {
		assertRejected(t, s, tok[:len(tok)-2]+flipLast(tok[len(tok)-2:]))
	}
	if n := jwt.CachedTokens(s); n != before {
		t.Fatalf("rejected tokens changed the cache: %d -> %d", before, n)
	}
	// Old tokens dropped from the cache are verified in full again.
	for _, tok := range toks {
		assertAccepted(t, s, tok)
	}
}

// An expired token is not cached at all.
func TestVerifiedCacheSkipsTokensInTheirLeeway(t *testing.T) {
	t.Parallel()
	s, clk := newService(t, jwt.Config{})
	tok, err := s.Issue(claimsAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(15*time.Minute + time.Second)) // past exp, within the leeway
	assertAccepted(t, s, tok)
	if n := jwt.CachedTokens(s); n != 0 {
		t.Fatalf("%d tokens cached past their exp", n)
	}
}

// Many goroutines verifying, and filling the cache, at once.
func TestVerifiedCacheConcurrent(t *testing.T) {
	t.Parallel()
	s, clk := newService(t, jwt.Config{VerifiedCache: 16})
	var toks []string
	for i := range 64 {
		c := claimsAt(t0)
		c.TokenID = fmt.Sprintf("%s%02d", jti, i)
		tok, err := s.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				tok := toks[(g*7+i)%len(toks)]
				c, err := s.Verify(tok)
				if err != nil || c.TokenID != fmt.Sprintf("%s%02d", jti, (g*7+i)%len(toks)) {
					t.Errorf("Verify = %+v, %v", c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	clk.Set(t0.Add(time.Hour))
	for _, tok := range toks {
		assertRejected(t, s, tok)
	}
}
