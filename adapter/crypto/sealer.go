package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/m9m/auth/port"
)

// sealVersion is the first byte of every sealed value, so the format (or
// the key derivation) can change later without guessing.
const sealVersion byte = 1

// sealInfo binds derived keys to this one purpose: the same configured key
// used elsewhere would yield an unrelated AES key.
const sealInfo = "m9m webhook secret sealing v1"

// MinSealerKeyBytes is the shortest configured key accepted (matching the
// check of security.webhook_encryption_key in config).
const MinSealerKeyBytes = 32

// ErrSealed is returned by Open for anything that is not a value this key
// sealed: wrong key, wrong version, truncated or tampered data.
var ErrSealed = errors.New("crypto: sealed value cannot be opened")

// Sealer is port.SecretSealer with AES-256-GCM. The AES key is derived from
// the configured passphrase with HKDF-SHA256, so any high-entropy string of
// at least 32 bytes works; each value gets a fresh random 96-bit nonce,
// stored in front of the ciphertext: version ‖ nonce ‖ ciphertext ‖ tag.
//
// A Sealer may also hold previous keys (key rotation): they open old
// values, never seal new ones, and Reseal moves a value to the current key.
type Sealer struct {
	aead     cipher.AEAD
	previous []cipher.AEAD
}

var (
	_ port.SecretSealer   = (*Sealer)(nil)
	_ port.SecretResealer = (*Sealer)(nil)
)

// NewSealer derives the sealing key from key (security.webhook_encryption_key)
// and the opening-only keys from previous
// (security.previous_webhook_encryption_keys). Errors never contain a key.
func NewSealer(key string, previous ...string) (*Sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	s := &Sealer{aead: aead}
	for i, p := range previous {
		a, err := newAEAD(p)
		if err != nil {
			return nil, fmt.Errorf("previous key %d: %w", i, err)
		}
		s.previous = append(s.previous, a)
	}
	return s, nil
}

// newAEAD derives one sealing cipher from a configured key.
func newAEAD(key string) (cipher.AEAD, error) {
	if len(key) < MinSealerKeyBytes {
		return nil, fmt.Errorf("crypto: webhook encryption key must be at least %d bytes", MinSealerKeyBytes)
	}
	k, err := hkdf.Key(sha256.New, []byte(key), nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("crypto: sealing cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("crypto: sealing cipher: %w", err)
	}
	return aead, nil
}

// Seal encrypts plain under the current key and a fresh random nonce.
func (s *Sealer) Seal(plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("crypto: nonce: %w", err)
	}
	header := append([]byte{sealVersion}, nonce...)
	out := make([]byte, len(header), len(header)+len(plain)+s.aead.Overhead())
	copy(out, header)
	return s.aead.Seal(out, nonce, plain, header[:1]), nil
}

// Open decrypts and authenticates a value Seal produced with the current
// key or one of the previous keys.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	if plain, err := open(s.aead, sealed); err == nil {
		return plain, nil
	}
	for _, a := range s.previous {
		if plain, err := open(a, sealed); err == nil {
			return plain, nil
		}
	}
	return nil, ErrSealed
}

// Reseal returns sealed re-sealed under the current key and true, or nil
// and false when the current key already opens it. A value no key opens is
// ErrSealed.
func (s *Sealer) Reseal(sealed []byte) ([]byte, bool, error) {
	if _, err := open(s.aead, sealed); err == nil {
		return nil, false, nil
	}
	plain, err := s.Open(sealed)
	if err != nil {
		return nil, false, err
	}
	defer clear(plain)
	out, err := s.Seal(plain)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// open decrypts and authenticates a value sealed with aead.
func open(aead cipher.AEAD, sealed []byte) ([]byte, error) {
	ns := aead.NonceSize()
	if len(sealed) < 1+ns+aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrSealed
	}
	plain, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
