// Package apikey models API keys: the wire format of the secret a client
// presents (format.go) and the stored entity that describes it (key.go).
// Everything here is pure: parsing a presented key does no I/O, so a
// malformed key is refused before any Redis or database lookup.
package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/m9m/auth/domain"
)

// Prefix starts every key. It lets secret scanners (and humans) recognise an
// m9m secret key, and lets the authenticator reject other tokens cheaply.
const Prefix = "m9m_sk_"

// Alphabet is the base62 alphabet of the key body and of its checksum.
const Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Lengths of the parts of a key: 32 base62 characters carry log2(62)*32 ≈ 190
// bits of entropy; the 6-character checksum is a CRC32 of the body.
const (
	BodyLen          = 32
	ChecksumLen      = 6
	Len              = len(Prefix) + BodyLen + ChecksumLen // 45
	DisplayPrefixLen = len(Prefix) + 3                     // "m9m_sk_AbC"
)

// Parse failures are logged (never shown) so operators can tell a typo from a
// probe; none of them carries the presented key.
var (
	errLength   = errors.New("api key: wrong length")
	errPrefix   = errors.New("api key: wrong prefix")
	errAlphabet = errors.New("api key: character outside the base62 alphabet")
	errChecksum = errors.New("api key: checksum mismatch")
)

// Token is a syntactically valid API key as presented by a client. It can
// only be obtained from Parse, so holding one proves the shape and checksum
// were checked. It formats itself redacted (see String), so passing it to a
// logger or fmt by mistake does not leak the secret; call Secret to get the
// key deliberately.
type Token struct{ raw string }

// Parse checks that s has the shape of an m9m API key: the prefix, exactly
// 32 base62 characters, and their checksum. Any failure is
// domain.ErrUnauthenticated (with the reason attached for logs, never the key).
func Parse(s string) (Token, error) {
	if len(s) != Len {
		return Token{}, domain.ErrUnauthenticated.Wrap(errLength)
	}
	if !strings.HasPrefix(s, Prefix) {
		return Token{}, domain.ErrUnauthenticated.Wrap(errPrefix)
	}
	rest := s[len(Prefix):]
	for i := 0; i < len(rest); i++ {
		if !isBase62(rest[i]) {
			return Token{}, domain.ErrUnauthenticated.Wrap(errAlphabet)
		}
	}
	body, sum := rest[:BodyLen], rest[BodyLen:]
	if Checksum(body) != sum {
		return Token{}, domain.ErrUnauthenticated.Wrap(errChecksum)
	}
	return Token{raw: s}, nil
}

// Checksum returns the 6-character checksum of a key body: its CRC32 (IEEE),
// written in base62 and left-padded with '0'. 62^6 > 2^32, so it always fits.
// The checksum is not a secret and not a MAC; it only lets anyone tell a real
// key from a random string offline.
func Checksum(body string) string {
	v := crc32.ChecksumIEEE([]byte(body))
	var out [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		out[i] = Alphabet[v%62]
		v /= 62
	}
	return string(out[:])
}

// Secret returns the full key. Call it only where the key must leave the
// process on purpose: the one response that shows a new key to its owner.
func (t Token) Secret() string { return t.raw }

// Digest returns the hex SHA-256 of the full key: what the store keeps and
// looks keys up by. The key has ≈190 bits of entropy, so an unsalted fast
// hash is enough: a database dump does not reveal usable keys.
func (t Token) Digest() string {
	sum := sha256.Sum256([]byte(t.raw))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix returns the first 10 characters ("m9m_sk_" and 3 body
// characters), shown in listings so owners can tell their keys apart. It
// reveals about 18 bits of the 190, which does not help guess the rest.
func (t Token) DisplayPrefix() string {
	if len(t.raw) < DisplayPrefixLen {
		return ""
	}
	return t.raw[:DisplayPrefixLen]
}

// IsZero reports whether t is the zero Token (not obtained from Parse).
func (t Token) IsZero() bool { return t.raw == "" }

// String returns the redacted form, e.g. "m9m_sk_AbC…", never the secret.
func (t Token) String() string {
	if t.raw == "" {
		return ""
	}
	return t.DisplayPrefix() + "…"
}

// GoString keeps %#v redacted too.
func (t Token) GoString() string { return fmt.Sprintf("apikey.Token(%q)", t.String()) }

// Format makes every fmt verb (%v, %s, %q, %x, %d ...) print the redacted
// form, so no formatting path can reach the secret.
func (t Token) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = fmt.Fprint(f, t.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", t.String())
	default:
		_, _ = fmt.Fprint(f, t.String())
	}
}

// MarshalText returns the redacted form, so encoders that honour
// encoding.TextMarshaler (JSON, YAML, structured loggers) never emit the
// secret either. Put Secret() in a response explicitly.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

func isBase62(c byte) bool {
	return ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z')
}
