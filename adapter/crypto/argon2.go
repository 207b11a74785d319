package crypto

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

var _ port.PasswordHasher = (*Argon2Hasher)(nil)

// Argon2Params are argon2id cost parameters. They are recorded in every hash
// (PHC format), so changing them only affects new hashes; Verify reports old
// ones as needing a re-hash.
type Argon2Params struct {
	MemoryKiB   uint32 // m: memory per hash, in KiB
	Iterations  uint32 // t: passes over memory
	Parallelism uint8  // p: lanes
	SaltLen     uint32 // bytes of random salt
	KeyLen      uint32 // bytes of derived key
}

// DefaultArgon2Params is OWASP's recommended argon2id minimum (19 MiB, t=2,
// p=1) with a 16-byte salt and a 32-byte key.
var DefaultArgon2Params = Argon2Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Bounds on argon2 parameters, applied to the configuration and, above all,
// to parameters read back from stored hashes: a tampered hash must not be
// able to make one Verify allocate gigabytes or spin for minutes.
const (
	MaxArgon2MemoryKiB  = 1 << 20 // 1 GiB
	MaxArgon2Iterations = 100
	MinArgon2SaltLen    = 8
	MaxArgon2SaltLen    = 64
	MinArgon2KeyLen     = 16
	MaxArgon2KeyLen     = 128
	// MaxBcryptCost caps legacy bcrypt hashes (cost 14 ≈ 1 s; each step doubles).
	MaxBcryptCost = 14
	// maxEncodedLen bounds what the PHC parser reads at all.
	maxEncodedLen = 512
)

// DefaultQueueTimeout is how long a hash waits for a free slot when
// HasherConfig.QueueTimeout is zero.
const DefaultQueueTimeout = 2 * time.Second

// hasherDependency names the hasher in 503 errors (for logs).
const hasherDependency = "password-hasher"

// Errors for stored hashes the hasher cannot use. They reach callers wrapped
// in domain.Internal (a broken stored hash is a server fault, not a wrong
// password), and never carry the hash or the password.
var (
	ErrMalformedHash   = errors.New("crypto: malformed password hash")
	ErrUnsupportedHash = errors.New("crypto: unsupported password hash scheme")
)

var errQueueTimeout = errors.New("timed out waiting for a free hashing slot")

// Validate reports the first parameter outside the supported bounds.
func (p Argon2Params) Validate() error {
	switch {
	case p.Iterations < 1 || p.Iterations > MaxArgon2Iterations:
		return fmt.Errorf("argon2 iterations must be 1..%d", MaxArgon2Iterations)
	case p.Parallelism < 1:
		return errors.New("argon2 parallelism must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > MaxArgon2MemoryKiB:
		return fmt.Errorf("argon2 memory must be 8*parallelism..%d KiB", MaxArgon2MemoryKiB)
	case p.SaltLen < MinArgon2SaltLen || p.SaltLen > MaxArgon2SaltLen:
		return fmt.Errorf("argon2 salt length must be %d..%d bytes", MinArgon2SaltLen, MaxArgon2SaltLen)
	case p.KeyLen < MinArgon2KeyLen || p.KeyLen > MaxArgon2KeyLen:
		return fmt.Errorf("argon2 key length must be %d..%d bytes", MinArgon2KeyLen, MaxArgon2KeyLen)
	}
	return nil
}

// withDefaults fills each zero field from DefaultArgon2Params.
func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2Params
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// HasherConfig configures an Argon2Hasher. Peak hashing memory is about
// MaxConcurrent × Params.MemoryKiB.
type HasherConfig struct {
	// Params for new hashes; zero fields take DefaultArgon2Params' values.
	Params Argon2Params
	// MaxConcurrent caps simultaneous hash computations; ≤0 means runtime.NumCPU().
	MaxConcurrent int
	// QueueTimeout is how long a call waits for a slot before failing with
	// 503; ≤0 means DefaultQueueTimeout.
	QueueTimeout time.Duration
}

// Argon2Hasher is the port.PasswordHasher: argon2id in PHC string format,
// plus verification of legacy bcrypt hashes. A login flood queues on a
// semaphore instead of exhausting memory, and sheds load with
// domain.ErrUnavailable once the queue wait exceeds QueueTimeout.
type Argon2Hasher struct {
	params       Argon2Params
	sem          chan struct{}
	queueTimeout time.Duration
	dummy        func() string
	// derive computes argon2id; a field only so tests can observe concurrency.
	derive func(password, salt []byte, p Argon2Params) []byte
}

// NewArgon2Hasher returns a hasher for cfg. It panics if cfg.Params (after
// defaults) is out of bounds: that is a configuration bug the config layer
// should already have refused with Argon2Params.Validate.
func NewArgon2Hasher(cfg HasherConfig) *Argon2Hasher {
	params := cfg.Params.withDefaults()
	if err := params.Validate(); err != nil {
		panic("crypto: invalid argon2 parameters: " + err.Error())
	}
	n := cfg.MaxConcurrent
	if n <= 0 {
		n = runtime.NumCPU()
	}
	timeout := cfg.QueueTimeout
	if timeout <= 0 {
		timeout = DefaultQueueTimeout
	}
	h := &Argon2Hasher{
		params:       params,
		sem:          make(chan struct{}, n),
		queueTimeout: timeout,
		derive:       deriveArgon2id,
	}
	h.dummy = sync.OnceValue(h.newDummy)
	return h
}

// Params returns the parameters new hashes use.
func (h *Argon2Hasher) Params() Argon2Params { return h.params }

// Hash returns an argon2id PHC string for password with a fresh random salt.
func (h *Argon2Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	_, _ = rand.Read(salt) // never fails (Go ≥1.24 crashes the program instead)
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	key := h.derive([]byte(password), salt, h.params)
	return encodePHC(phc{params: h.params, salt: salt, key: key}), nil
}

// Verify reports whether password matches encoded (argon2id PHC, or bcrypt
// $2a$/$2b$/$2y$), comparing in constant time. needsRehash is reported only
// for a matching password: true for bcrypt and for argon2id hashes whose
// parameters differ from the configured ones. A malformed, unsupported or
// out-of-bounds stored hash is a domain.Internal error wrapping
// ErrMalformedHash or ErrUnsupportedHash; a saturated hasher or a done ctx is
// domain.ErrUnavailable.
func (h *Argon2Hasher) Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if isBcryptPrefix(encoded) {
		return h.verifyBcrypt(ctx, password, encoded)
	}
	ph, err := parsePHC(encoded)
	if err != nil {
		return false, false, domain.Internal(err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	got := h.derive([]byte(password), ph.salt, ph.params)
	ok = subtle.ConstantTimeCompare(got, ph.key) == 1
	return ok, ok && ph.params != h.params, nil
}

// VerifyDummy spends what Verify spends on a hash with the configured
// parameters — a random one, made once — so that login for an unknown
// username takes as long as for a known one. The comparison always fails and
// is discarded; the result is nil, except that a saturated hasher or a done
// ctx yields the same domain.ErrUnavailable that Verify would, so unknown and
// known usernames also fail alike under load.
func (h *Argon2Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, _, err := h.Verify(ctx, password, h.dummy())
	return err
}

// newDummy encodes a random salt and random "hash" with the configured
// parameters. No password hashes to it (short of a 2^-256 accident), and it
// costs no hashing to make.
func (h *Argon2Hasher) newDummy() string {
	salt := make([]byte, h.params.SaltLen)
	key := make([]byte, h.params.KeyLen)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	return encodePHC(phc{params: h.params, salt: salt, key: key})
}

// acquire takes a hashing slot, waiting at most queueTimeout.
func (h *Argon2Hasher) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Unavailable(hasherDependency, err)
	}
	select {
	case h.sem <- struct{}{}:
		return h.release, nil
	default:
	}
	t := time.NewTimer(h.queueTimeout)
	defer t.Stop()
	select {
	case h.sem <- struct{}{}:
		return h.release, nil
	case <-ctx.Done():
		return nil, domain.Unavailable(hasherDependency, ctx.Err())
	case <-t.C:
		return nil, domain.Unavailable(hasherDependency, errQueueTimeout)
	}
}

func (h *Argon2Hasher) release() { <-h.sem }

func deriveArgon2id(password, salt []byte, p Argon2Params) []byte {
	return argon2.IDKey(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
}

// --- bcrypt (verification only, for migrated users) ---

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func isBcryptPrefix(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// checkBcrypt strictly checks the modular-crypt shape "$2b$CC$" + 53
// characters and bounds the cost, before bcrypt itself sees the string.
func checkBcrypt(s string) error {
	if len(s) != 60 || s[6] != '$' {
		return fmt.Errorf("%w: bcrypt: bad shape", ErrMalformedHash)
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return fmt.Errorf("%w: bcrypt: bad cost", ErrMalformedHash)
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcrypt.MinCost || cost > MaxBcryptCost {
		return fmt.Errorf("%w: bcrypt: cost must be %d..%d", ErrMalformedHash, bcrypt.MinCost, MaxBcryptCost)
	}
	if strings.Trim(s[7:], bcryptAlphabet) != "" {
		return fmt.Errorf("%w: bcrypt: bad character", ErrMalformedHash)
	}
	return nil
}

func (h *Argon2Hasher) verifyBcrypt(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error) {
	if err := checkBcrypt(encoded); err != nil {
		return false, false, domain.Internal(err)
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)); {
	case err == nil:
		return true, true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, false, nil
	default:
		// bcrypt's own messages may quote bytes of the hash; keep them out.
		return false, false, domain.Internal(fmt.Errorf("%w: bcrypt rejected the hash", ErrMalformedHash))
	}
}

// --- PHC string format ---

// phc is a parsed "$argon2id$v=19$m=M,t=T,p=P$<salt>$<key>" string.
type phc struct {
	params Argon2Params
	salt   []byte
	key    []byte
}

var b64 = base64.RawStdEncoding.Strict()

func encodePHC(p phc) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.params.MemoryKiB, p.params.Iterations, p.params.Parallelism,
		b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parsePHC parses exactly the canonical form encodePHC writes: argon2id,
// version 19, parameters m, t, p in that order as plain decimals, unpadded
// standard base64 with no stray characters, everything within bounds. Any
// other input is an error (never a panic); error texts never quote input.
func parsePHC(s string) (phc, error) {
	malformed := func(what string) (phc, error) {
		return phc{}, fmt.Errorf("%w: argon2id: %s", ErrMalformedHash, what)
	}
	if len(s) > maxEncodedLen {
		return malformed("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) < 2 || parts[0] != "" || parts[1] == "" {
		return malformed("bad shape")
	}
	if parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: only argon2id and bcrypt are supported", ErrUnsupportedHash)
	}
	if len(parts) != 6 {
		return malformed("bad shape")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return malformed("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return malformed("bad parameter list")
	}
	m, okM := parseParam(kv[0], "m=", MaxArgon2MemoryKiB)
	t, okT := parseParam(kv[1], "t=", MaxArgon2Iterations)
	p, okP := parseParam(kv[2], "p=", 255)
	if !okM || !okT || !okP {
		return malformed("bad parameter")
	}
	salt, err := decodeB64(parts[4])
	if err != nil {
		return malformed("bad salt encoding")
	}
	key, err := decodeB64(parts[5])
	if err != nil {
		return malformed("bad hash encoding")
	}
	saltLen, keyLen := len(salt), len(key)
	if p > math.MaxUint8 || saltLen > MaxArgon2SaltLen || keyLen > MaxArgon2KeyLen {
		return malformed("parameter out of range")
	}
	params := Argon2Params{
		MemoryKiB: m, Iterations: t, Parallelism: uint8(p),
		SaltLen: uint32(saltLen), KeyLen: uint32(keyLen),
	}
	if err := params.Validate(); err != nil {
		return malformed(err.Error())
	}
	return phc{params: params, salt: salt, key: key}, nil
}

// parseParam parses "<name><decimal>" with no sign, no leading zeros and a
// value ≤ limit (limit < 2^32).
func parseParam(s, name string, limit uint64) (uint32, bool) {
	digits, found := strings.CutPrefix(s, name)
	if !found || digits == "" || len(digits) > 10 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > limit {
		return 0, false
	}
	return uint32(v), true
}

// decodeB64 decodes unpadded standard base64 and insists the input was the
// canonical encoding (the decoder itself skips CR/LF).
func decodeB64(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if b64.EncodeToString(b) != s {
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}
