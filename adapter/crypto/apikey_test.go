package crypto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/m9m/auth/domain/apikey"
)

func TestNewAPIKeyFormat(t *testing.T) {
	t.Parallel()
	for range 1000 {
		tok, err := NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		s := tok.Secret()
		if len(s) != 45 || !strings.HasPrefix(s, "m9m_sk_") {
			t.Fatalf("bad shape: len %d", len(s))
		}
		body := s[7:39]
		if strings.Trim(body, apikey.Alphabet) != "" || s[39:] != apikey.Checksum(body) {
			t.Fatal("bad body or checksum")
		}
		back, err := apikey.Parse(s)
		if err != nil || back != tok {
			t.Fatalf("Parse round trip: %v", err)
		}
		if tok.DisplayPrefix() != s[:10] {
			t.Fatalf("DisplayPrefix mismatch")
		}
	}
}

func TestNewAPIKeyUnique(t *testing.T) {
	t.Parallel()
	const n = 20_000
	seen := make(map[string]struct{}, n)
	bodies := make(map[string]struct{}, n)
	for range n {
		tok, err := NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		s := tok.Secret()
		if _, dup := seen[s]; dup {
			t.Fatal("duplicate key")
		}
		seen[s] = struct{}{}
		bodies[s[7:17]] = struct{}{} // even 10-char slices (≈60 bits) must not collide
	}
	if len(bodies) != n {
		t.Fatalf("only %d distinct 10-char body prefixes among %d keys", len(bodies), n)
	}
}

// chiSquare is Pearson's statistic of counts against a uniform distribution.
func chiSquare(counts []int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	exp := float64(total) / float64(len(counts))
	var x float64
	for _, c := range counts {
		d := float64(c) - exp
		x += d * d / exp
	}
	return x
}

// With 61 degrees of freedom the statistic has mean 61 and sd ≈ 11; 150 is
// exceeded by a uniform source with probability ≈ 2e-9 per check, so the
// 33 checks below do not flake. A b%62 sampler scores in the thousands.
const chiLimit = 150

// symbolStats draws n bodies with gen and returns pooled and per-position
// chi-square statistics over the 62 symbols.
func symbolStats(t *testing.T, n int, gen func() string) (pooled float64, perPos []float64) {
	t.Helper()
	var idx [256]int
	for i := range idx {
		idx[i] = -1
	}
	for i := range len(apikey.Alphabet) {
		idx[apikey.Alphabet[i]] = i
	}
	all := make([]int, 62)
	pos := make([][]int, apikey.BodyLen)
	for i := range pos {
		pos[i] = make([]int, 62)
	}
	for range n {
		body := gen()
		for i := range apikey.BodyLen {
			k := idx[body[i]]
			if k < 0 {
				t.Fatalf("symbol outside alphabet")
			}
			all[k]++
			pos[i][k]++
		}
	}
	for i := range pos {
		perPos = append(perPos, chiSquare(pos[i]))
	}
	return chiSquare(all), perPos
}

func TestNewAPIKeyDistribution(t *testing.T) {
	t.Parallel()
	const n = 20_000
	pooled, perPos := symbolStats(t, n, func() string {
		tok, err := NewAPIKey()
		if err != nil {
			t.Fatal(err)
		}
		return tok.Secret()[7:39]
	})
	if pooled > chiLimit {
		t.Errorf("pooled chi-square %.1f > %d: symbols are not uniform", pooled, chiLimit)
	}
	for i, x := range perPos {
		if x > chiLimit {
			t.Errorf("position %d chi-square %.1f > %d", i, x, chiLimit)
		}
	}
}

// TestDistributionCheckCatchesModuloBias proves the check above has teeth: a
// generator that takes every byte mod 62 fails it by a wide margin.
func TestDistributionCheckCatchesModuloBias(t *testing.T) {
	t.Parallel()
	const n = 20_000
	buf := make([]byte, apikey.BodyLen)
	pooled, _ := symbolStats(t, n, func() string {
		_, _ = rand.Read(buf)
		out := make([]byte, len(buf))
		for i, b := range buf {
			out[i] = apikey.Alphabet[int(b)%62]
		}
		return string(out)
	})
	if pooled < 10*chiLimit {
		t.Fatalf("biased generator scored only %.1f; the distribution test would not catch it", pooled)
	}
}

func TestRandomBase62RejectsHighBytes(t *testing.T) {
	t.Parallel()
	// Every byte ≥ 248 must be skipped; 247 is the last accepted (247%62 = 61 → 'z').
	var src []byte
	for i := range 200 {
		src = append(src, byte(248+i%8))
	}
	src = append(src, 247, 0, 61, 62, 123, 124, 185, 186)
	for i := range 100 {
		src = append(src, byte(i))
	}
	tok, err := newAPIKey(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	// 247→z, 0→0, 61→z, 62→0, 123→z, 124→0, 185→z, 186→0, then 0, 1, 2 ...
	want := "z0z0z0z0" + apikey.Alphabet[:24]
	if got := tok.Secret()[7:39]; got != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
}

func TestNewAPIKeyReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("entropy source failed")
	_, err := newAPIKey(io.MultiReader(bytes.NewReader([]byte{1, 2, 3}), errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
	// A source of only rejected bytes that then ends must fail, not loop.
	_, err = newAPIKey(bytes.NewReader(bytes.Repeat([]byte{255}, 1000)))
	if err == nil {
		t.Fatal("exhausted reader produced a key")
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
