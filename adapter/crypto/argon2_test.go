package crypto

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m9m/auth/domain"
)

// cheap keeps tests fast: 64 KiB, one pass.
var cheap = Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newCheap(t *testing.T) *Argon2Hasher {
	t.Helper()
	return NewArgon2Hasher(HasherConfig{Params: cheap, MaxConcurrent: 2, QueueTimeout: time.Minute})
}

const secretPassword = "correct horse battery staple"

// libxcryptBcrypt are bcrypt hashes of secretPassword made with Python's
// crypt.crypt (libxcrypt), not with the Go library under test.
var libxcryptBcrypt = []string{
	"$2b$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
	"$2y$05$ABCDEFGHIJKLMNOPQRSTUuKGxkAaoBVtx5pBUbkcmXJ9X86rN9gCi",
}

// assertNoSecrets fails if err's text contains any of the secrets.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a secret: %v", err)
		}
	}
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	h := newCheap(t)
	ctx := context.Background()
	for _, pw := range []string{secretPassword, "", "pässwörd ✓", strings.Repeat("x", 1000)} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !phcRE.MatchString(enc) {
			t.Fatalf("hash %q is not canonical PHC", enc)
		}
		if strings.Contains(enc, pw) && pw != "" {
			t.Fatal("hash contains the password")
		}
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if err != nil || !ok || rehash {
			t.Fatalf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, pw+"x", enc)
		if err != nil || ok || rehash {
			t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
		}
	}
}

func TestHashIsSalted(t *testing.T) {
	t.Parallel()
	h := newCheap(t)
	a, errA := h.Hash(context.Background(), secretPassword)
	b, errB := h.Hash(context.Background(), secretPassword)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

// Known answers from the Argon2 reference implementation's tests
// (phc-winner-argon2 / libar2 test.c), so we interoperate with other encoders.
func TestVerifyReferenceVectors(t *testing.T) {
	t.Parallel()
	h := newCheap(t)
	for _, enc := range []string{
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
	} {
		ok, rehash, err := h.Verify(context.Background(), "password", enc)
		if err != nil || !ok {
			t.Fatalf("Verify(reference %s) = %v, %v", enc, ok, err)
		}
		if !rehash {
			t.Errorf("reference params differ from configured ones: want needsRehash")
		}
		if ok, _, _ := h.Verify(context.Background(), "passwore", enc); ok {
			t.Fatal("wrong password accepted")
		}
	}
}

func TestNeedsRehashOnParamChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := newCheap(t)
	enc, err := old.Hash(ctx, secretPassword)
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(*Argon2Params){
		"memory":      func(p *Argon2Params) { p.MemoryKiB = 128 },
		"iterations":  func(p *Argon2Params) { p.Iterations = 2 },
		"parallelism": func(p *Argon2Params) { p.Parallelism = 2 },
		"salt length": func(p *Argon2Params) { p.SaltLen = 32 },
		"key length":  func(p *Argon2Params) { p.KeyLen = 64 },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := cheap
			change(&p)
			h := NewArgon2Hasher(HasherConfig{Params: p, MaxConcurrent: 1, QueueTimeout: time.Minute})
			ok, rehash, err := h.Verify(ctx, secretPassword, enc)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			// A wrong password never asks for a re-hash.
			if ok, rehash, err := h.Verify(ctx, "nope", enc); ok || rehash || err != nil {
				t.Fatalf("Verify(wrong) = %v, %v, %v", ok, rehash, err)
			}
		})
	}
}

func TestBcryptMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newCheap(t)
	raw, err := bcrypt.GenerateFromPassword([]byte(secretPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + string(raw[4:])
		ok, rehash, err := h.Verify(ctx, secretPassword, enc)
		if err != nil || !ok || !rehash {
			t.Fatalf("%s: Verify = %v, %v, %v; want true, true, nil", prefix, ok, rehash, err)
		}
		ok, rehash, err = h.Verify(ctx, "wrong", enc)
		if err != nil || ok || rehash {
			t.Fatalf("%s: Verify(wrong) = %v, %v, %v", prefix, ok, rehash, err)
		}
	}
	// Hashes made by an independent implementation (libxcrypt's crypt(3)).
	for _, enc := range libxcryptBcrypt {
		ok, rehash, err := h.Verify(ctx, secretPassword, enc)
		if err != nil || !ok || !rehash {
			t.Fatalf("libxcrypt %s: Verify = %v, %v, %v; want true, true, nil", enc[:7], ok, rehash, err)
		}
	}
	// Unsupported bcrypt variants and hostile costs are refused without hashing.
	for _, enc := range []string{
		"$2x$" + string(raw[4:]),
		"$2a$15" + string(raw[6:]),
		"$2a$31" + string(raw[6:]),
		"$2a$03" + string(raw[6:]),
		"$2a$1x" + string(raw[6:]),
		"$2a$" + string(raw[4:59]),
		string(raw) + "A",
		string(raw[:40]) + "!" + string(raw[41:]),
		"$2a$04$",
	} {
		ok, _, err := h.Verify(ctx, secretPassword, enc)
		if ok || err == nil || domain.KindOf(err) != domain.KindInternal {
			t.Fatalf("Verify(%q) = %v, %v; want internal error", enc, ok, err)
		}
		assertNoSecrets(t, err, secretPassword, enc, string(raw[7:]))
	}
}

func TestVerifyHostileEncodings(t *testing.T) {
	t.Parallel()
	h := newCheap(t)
	good, err := h.Hash(context.Background(), secretPassword)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	salt, key := parts[4], parts[5]
	with := func(params, s, k string) string { return "$argon2id$v=19$" + params + "$" + s + "$" + k }
	const ok = "m=64,t=1,p=1"

	tests := []struct {
		name        string
		enc         string
		unsupported bool
	}{
		{"empty", "", false},
		{"dollar", "$", false},
		{"no leading dollar", strings.TrimPrefix(good, "$"), false},
		{"scheme only", "$argon2id", false},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1), true},
		{"argon2d", strings.Replace(good, "argon2id", "argon2d", 1), true},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", true},
		{"plaintext", "hunter2", false},
		{"old version", strings.Replace(good, "v=19", "v=16", 1), false},
		{"no version", "$argon2id$" + ok + "$" + salt + "$" + key, false},
		{"version with leading zero", strings.Replace(good, "v=19", "v=019", 1), false},
		{"m=0", with("m=0,t=1,p=1", salt, key), false},
		{"t=0", with("m=64,t=0,p=1", salt, key), false},
		{"p=0", with("m=64,t=1,p=0", salt, key), false},
		{"p=256", with("m=4096,t=1,p=256", salt, key), false},
		{"m below 8p", with("m=8,t=1,p=2", salt, key), false},
		{"m over 1 GiB", with("m=1048577,t=1,p=1", salt, key), false},
		{"m uint32 overflow", with("m=4294967360,t=1,p=1", salt, key), false},
		{"m huge", with("m=99999999999999999999999,t=1,p=1", salt, key), false},
		{"t over 100", with("m=64,t=101,p=1", salt, key), false},
		{"t max uint32", with("m=64,t=4294967295,p=1", salt, key), false},
		{"negative", with("m=-64,t=1,p=1", salt, key), false},
		{"plus sign", with("m=+64,t=1,p=1", salt, key), false},
		{"leading zero", with("m=064,t=1,p=1", salt, key), false},
		{"space", with("m= 64,t=1,p=1", salt, key), false},
		{"hex", with("m=0x40,t=1,p=1", salt, key), false},
		{"empty value", with("m=,t=1,p=1", salt, key), false},
		{"reordered", with("t=1,m=64,p=1", salt, key), false},
		{"missing p", with("m=64,t=1", salt, key), false},
		{"extra keyid", with(ok+",keyid=abc", salt, key), false},
		{"duplicate m", with("m=64,m=64,t=1", salt, key), false},
		{"semicolons", with("m=64;t=1;p=1", salt, key), false},
		{"trailing comma", with(ok+",", salt, key), false},
		{"missing hash", with(ok, salt, ""), false},
		{"missing salt", with(ok, "", key), false},
		{"extra segment", good + "$AAAA", false},
		{"trailing dollar", good + "$", false},
		{"salt too short", with(ok, "AAAAAA", key), false},
		{"salt too long", with(ok, strings.Repeat("A", 88), key), false},
		{"key too short", with(ok, salt, "AAAAAAAAAAAAAAAAAAAA"), false},
		{"key too long", with(ok, salt, strings.Repeat("A", 172)), false},
		{"padded salt", with(ok, salt+"==", key), false},
		{"url alphabet", with(ok, strings.Repeat("-", 22), key), false},
		{"newline in key", with(ok, salt, key[:10]+"\n"+key[10:]), false},
		{"CR in salt", with(ok, salt[:5]+"\r"+salt[5:], key), false},
		{"non-canonical trailing bits", with(ok, salt[:21]+"B", key), false},
		{"NUL", good[:20] + "\x00" + good[21:], false},
		{"too long", with(ok, salt, key) + strings.Repeat("A", 600), false},
		{"unicode digits", with("m=６４,t=1,p=1", salt, key), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(context.Background(), secretPassword, tt.enc)
			if err == nil || ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want an error", ok, rehash, err)
			}
			want := ErrMalformedHash
			if tt.unsupported {
				want = ErrUnsupportedHash
			}
			if !errors.Is(err, want) || domain.KindOf(err) != domain.KindInternal {
				t.Fatalf("err = %v; want internal %v", err, want)
			}
			assertNoSecrets(t, err, secretPassword, tt.enc, salt, key)
		})
	}
}

func TestParamsDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	h := NewArgon2Hasher(HasherConfig{})
	if h.Params() != DefaultArgon2Params {
		t.Fatalf("Params = %+v, want defaults %+v", h.Params(), DefaultArgon2Params)
	}
	if cap(h.sem) < 1 || h.queueTimeout != DefaultQueueTimeout {
		t.Fatalf("cap %d, timeout %v", cap(h.sem), h.queueTimeout)
	}
	if !strings.HasPrefix(h.dummy(), "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("dummy does not use the configured parameters")
	}
	partial := NewArgon2Hasher(HasherConfig{Params: Argon2Params{MemoryKiB: 64, Iterations: 1}})
	if want := (Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}); partial.Params() != want {
		t.Fatalf("partial defaults = %+v, want %+v", partial.Params(), want)
	}

	bad := []Argon2Params{
		{MemoryKiB: 4, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 64, Iterations: 101, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: MaxArgon2MemoryKiB + 1, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 4, KeyLen: 32},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 8},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 129},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 16, SaltLen: 16, KeyLen: 32},
	}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", p)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewArgon2Hasher(%+v) did not panic", p)
				}
			}()
			NewArgon2Hasher(HasherConfig{Params: p})
		}()
	}
	if err := DefaultArgon2Params.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	h := newCheap(t)
	var calls atomic.Int32
	var seen sync.Map
	h.derive = func(pw, salt []byte, p Argon2Params) []byte {
		calls.Add(1)
		seen.Store(p, true)
		return deriveArgon2id(pw, salt, p)
	}
	ctx := context.Background()
	for range 3 {
		if err := h.VerifyDummy(ctx, secretPassword); err != nil {
			t.Fatalf("VerifyDummy: %v", err)
		}
	}
	if got := calls.Load(); got != 3 {
		t.Fatalf("VerifyDummy computed %d hashes for 3 calls, want 3 (it must cost what Verify costs)", got)
	}
	n := 0
	seen.Range(func(k, _ any) bool {
		n++
		if k.(Argon2Params) != h.params {
			t.Errorf("dummy hashed with %+v, want configured %+v", k, h.params)
		}
		return true
	})
	if n != 1 {
		t.Fatalf("dummy used %d parameter sets", n)
	}
	if first, second := h.dummy(), h.dummy(); first != second {
		t.Fatal("dummy hash is not computed once")
	}
	if other := newCheap(t); other.dummy() == h.dummy() {
		t.Fatal("two hashers share a dummy hash")
	}
}

// holdAll takes every slot of h, so the next hash must wait.
func holdAll(t *testing.T, h *Argon2Hasher) (release func()) {
	t.Helper()
	var rels []func()
	for range cap(h.sem) {
		rel, err := h.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	return func() {
		for _, r := range rels {
			r()
		}
	}
}

func TestConcurrencyCapTimesOut(t *testing.T) {
	t.Parallel()
	h := NewArgon2Hasher(HasherConfig{Params: cheap, MaxConcurrent: 1, QueueTimeout: 20 * time.Millisecond})
	ctx := context.Background()
	enc, err := h.Hash(ctx, secretPassword)
	if err != nil {
		t.Fatal(err)
	}
	release := holdAll(t, h)
	calls := map[string]func() error{
		"Hash":        func() error { _, err := h.Hash(ctx, secretPassword); return err },
		"Verify":      func() error { _, _, err := h.Verify(ctx, secretPassword, enc); return err },
		"VerifyDummy": func() error { return h.VerifyDummy(ctx, secretPassword) },
		"bcrypt": func() error {
			_, _, err := h.Verify(ctx, secretPassword, "$2a$04$"+strings.Repeat("A", 53))
			return err
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if !errors.Is(err, domain.ErrUnavailable) || !errors.Is(err, errQueueTimeout) {
			t.Fatalf("%s while saturated: err = %v, want ErrUnavailable after the queue timeout", name, err)
		}
		if time.Since(start) < 20*time.Millisecond {
			t.Fatalf("%s gave up before QueueTimeout", name)
		}
		assertNoSecrets(t, err, secretPassword, enc)
	}
	release()
	if ok, _, err := h.Verify(ctx, secretPassword, enc); err != nil || !ok {
		t.Fatalf("after release: %v, %v", ok, err)
	}
}

func TestConcurrencyCapHonoursContext(t *testing.T) {
	t.Parallel()
	h := NewArgon2Hasher(HasherConfig{Params: cheap, MaxConcurrent: 1, QueueTimeout: time.Hour})

	// Already done: refused at once, even with a free slot.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(done, secretPassword); !errors.Is(err, domain.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash(cancelled ctx) = %v", err)
	}

	// Cancelled while queued.
	release := holdAll(t, h)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, secretPassword); errc <- err }()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, domain.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash(cancelled while queued) = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Hash did not return after its context was cancelled")
	}
}

func TestConcurrencyCapBoundsParallelHashes(t *testing.T) {
	t.Parallel()
	const limit, callers = 2, 6
	h := NewArgon2Hasher(HasherConfig{Params: cheap, MaxConcurrent: limit, QueueTimeout: time.Minute})
	var inFlight, peak atomic.Int32
	gate := make(chan struct{})
	h.derive = func(pw, salt []byte, p Argon2Params) []byte {
		n := inFlight.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		<-gate
		inFlight.Add(-1)
		return deriveArgon2id(pw, salt, p)
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), secretPassword); err != nil {
				errs <- err
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for inFlight.Load() < limit {
		if time.Now().After(deadline) {
			t.Fatal("hashes never started")
		}
		time.Sleep(time.Millisecond)
	}
	// Give a broken cap every chance to let more callers in.
	time.Sleep(50 * time.Millisecond)
	if got := inFlight.Load(); got != limit {
		t.Fatalf("%d hashes in flight, cap is %d", got, limit)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("queued hash failed: %v", err)
	}
	if got := peak.Load(); got != limit {
		t.Fatalf("peak concurrency %d, want %d", got, limit)
	}
}

// FuzzVerifyEncoded feeds arbitrary stored hashes to the parser and to Verify
// (when cheap): no panic, only our error types, no input echoed, and anything
// accepted is exactly the canonical encoding with bounded parameters.
func FuzzVerifyEncoded(f *testing.F) {
	h := NewArgon2Hasher(HasherConfig{Params: cheap, MaxConcurrent: 1, QueueTimeout: time.Minute})
	// Fixed salts: the fuzzer runs this setup again in every worker process,
	// and the hashes we "made" must be the same in all of them.
	salt := []byte("fuzz-fixed-salt!")
	good := encodePHC(phc{params: cheap, salt: salt, key: deriveArgon2id([]byte(secretPassword), salt, cheap)})
	raw := libxcryptBcrypt[0]
	for _, s := range []string{
		good, raw, "",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$2a$31$" + strings.Repeat("A", 53),
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$$$$$$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		ph, err := parsePHC(enc)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash) {
				t.Fatalf("unexpected error type: %v", err)
			}
			if !strings.HasPrefix(err.Error(), ErrMalformedHash.Error()+": ") && !strings.HasPrefix(err.Error(), ErrUnsupportedHash.Error()+": ") {
				t.Fatalf("unexpected error text: %v", err)
			}
			if len(enc) >= 16 && strings.Contains(err.Error(), enc) {
				t.Fatalf("error echoes the input")
			}
		} else {
			if encodePHC(ph) != enc {
				t.Fatalf("accepted a non-canonical encoding %q", enc)
			}
			if ph.params.Validate() != nil {
				t.Fatalf("accepted out-of-bounds params %+v", ph.params)
			}
		}
		cheapArgon := err == nil && ph.params.MemoryKiB <= 1024 && ph.params.Iterations <= 2 && ph.params.Parallelism <= 4
		cheapBcrypt := isBcryptPrefix(enc) && checkBcrypt(enc) == nil && enc[4:6] <= "05"
		if !cheapArgon && !cheapBcrypt {
			return
		}
		ok, _, verr := h.Verify(context.Background(), secretPassword, enc)
		if cheapArgon && verr != nil {
			t.Fatalf("Verify rejected a parsed hash: %v", verr)
		}
		if verr != nil && domain.KindOf(verr) != domain.KindInternal {
			t.Fatalf("Verify error kind %v", domain.KindOf(verr))
		}
		if ok && enc != good && enc != raw {
			t.Fatalf("a hash we never made verified the password: %q", enc)
		}
	})
}
