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
type Sealer struct {
	aead cipher.AEAD
}

var _ port.SecretSealer = (*Sealer)(nil)

// NewSealer derives the sealing key from key (security.webhook_encryption_key).
// The error never contains the key.
func NewSealer(key string) (*Sealer, error) {
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
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain under a fresh random nonce.
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

// Open decrypts and authenticates a value Seal produced with the same key.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrSealed
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
