package workflow

import (
	"crypto/sha256"
	"encoding/hex"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
)

// AuthType is how a webhook's caller proves it may trigger the workflow.
type AuthType string

// The webhook auth types of the contract (§8).
const (
	AuthNone   AuthType = "none"
	AuthHeader AuthType = "header"
	AuthBasic  AuthType = "basic"
	AuthHMAC   AuthType = "hmac"
)

// Valid reports whether t is a known auth type.
func (t AuthType) Valid() bool {
	switch t {
	case AuthNone, AuthHeader, AuthBasic, AuthHMAC:
		return true
	}
	return false
}

// HasSecret reports whether webhooks of type t hold a secret.
func (t AuthType) HasSecret() bool { return t != AuthNone }

// WebhookAuth is what a webhook stores to check its callers. It never holds
// a secret in the clear: the header value and the basic password are kept
// as SHA-256 digests (compared digest to digest, in constant time), and the
// HMAC secret, which must stay usable to compute signatures, is sealed
// (encrypted) by a port.SecretSealer.
type WebhookAuth struct {
	Type AuthType
	// HeaderName is canonical (textproto.CanonicalMIMEHeaderKey).
	HeaderName          string
	HeaderValueDigest   string // hex SHA-256
	BasicUsername       string
	BasicPasswordDigest string // hex SHA-256
	HMACSecretSealed    []byte
}

// Limits on webhook fields.
const (
	MaxPathLen       = 200
	MaxHeaderNameLen = 100
	MaxUsernameLen   = 200
	MaxSecretBytes   = 1024
	// MinSecretChars is the shortest webhook secret (header value, basic
	// password, hmac secret) accepted: a shorter one could be guessed
	// online, as webhook endpoints are public (contract §8).
	MinSecretChars = 16
)

// Digest returns the hex SHA-256 of a webhook secret, the form in which
// header values and basic passwords are stored and compared.
func Digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ValidatePath checks a webhook path: 1–200 characters of [A-Za-z0-9/_-],
// no leading or trailing slash and no empty segment ("//"). The alphabet
// has no '.', so "..", percent-escapes and anything a proxy might rewrite
// are impossible by construction.
func ValidatePath(p string) error {
	if !ValidPath(p) {
		return domain.InvalidField("webhook.path",
			"must be 1 to 200 characters of A-Z, a-z, 0-9, '/', '_' and '-', without a leading or trailing '/' or '//'")
	}
	return nil
}

// ValidPath is ValidatePath as a predicate, for callers (the webhook
// endpoint) that answer 404 instead of 400.
func ValidPath(p string) bool {
	if len(p) < 1 || len(p) > MaxPathLen || p[0] == '/' || p[len(p)-1] == '/' ||
		strings.Contains(p, "//") || strings.Contains(p, "..") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '/', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// reservedHeaders cannot carry webhook auth: HTTP framing and hop-by-hop
// headers that proxies add, drop or rewrite, the proxy chain headers, the
// headers of the hmac scheme, and the headers whose values the edge logs.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Expect": true, "Proxy-Connection": true, "X-Forwarded-For": true, "X-Forwarded-Host": true,
	"X-Forwarded-Proto": true, "X-Real-Ip": true, "Forwarded": true,
	"X-M9m-Signature": true, "X-M9m-Timestamp": true,
	// Logged or echoed by the edge (access log, X-Request-ID): a secret in
	// one of them would be written to the logs on every delivery.
	"User-Agent": true, "X-Request-Id": true, "Accept": true, "Accept-Encoding": true,
}

// ValidateHeaderName checks the name of a header-auth webhook's header: an
// RFC 9110 token of 1–100 characters that is not reserved. It returns the
// canonical form.
func ValidateHeaderName(name string) (string, error) {
	if len(name) < 1 || len(name) > MaxHeaderNameLen {
		return "", domain.InvalidField("webhook.auth.name", "must be 1 to 100 characters long")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return "", domain.InvalidField("webhook.auth.name", "must be a valid HTTP header name")
		}
	}
	canon := textproto.CanonicalMIMEHeaderKey(name)
	if reservedHeaders[canon] {
		return "", domain.InvalidField("webhook.auth.name", "is a reserved header and cannot carry webhook auth")
	}
	return canon, nil
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidateHeaderValue checks a header-auth secret: 1 KiB at most, and
// sendable as a header value (no control characters, no surrounding white
// space, which HTTP strips, so such a value could never match).
func ValidateHeaderValue(v string) error {
	const field = "webhook.auth.value"
	if err := validateSecret(field, v); err != nil {
		return err
	}
	if strings.TrimSpace(v) != v {
		return domain.InvalidField(field, "must not start or end with white space")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return domain.InvalidField(field, "must not contain control characters")
		}
	}
	return nil
}

// ValidateBasicUsername checks a basic-auth webhook's username: 1–200
// characters of UTF-8 without ':' (the separator of the credential) or
// control characters.
func ValidateBasicUsername(u string) error {
	const field = "webhook.auth.username"
	if !utf8.ValidString(u) || len(u) < 1 || utf8.RuneCountInString(u) > MaxUsernameLen {
		return domain.InvalidField(field, "must be 1 to 200 characters of UTF-8")
	}
	for _, r := range u {
		if r == ':' || r < 0x20 || r == 0x7f {
			return domain.InvalidField(field, "must not contain ':' or control characters")
		}
	}
	return nil
}

// ValidateBasicPassword checks a basic-auth webhook's password.
func ValidateBasicPassword(p string) error {
	return validateSecret("webhook.auth.password", p)
}

// ValidateHMACSecret checks an hmac webhook's shared secret.
func ValidateHMACSecret(s string) error {
	return validateSecret("webhook.auth.secret", s)
}

// validateSecret checks what every webhook secret must be: at least 16
// characters and at most 1 KiB. The message never repeats the value.
func validateSecret(field, s string) error {
	if s == "" {
		return domain.InvalidField(field, "must not be empty")
	}
	if utf8.RuneCountInString(s) < MinSecretChars {
		return domain.InvalidField(field, "must be at least 16 characters long")
	}
	if len(s) > MaxSecretBytes {
		return domain.InvalidField(field, "must be at most 1024 bytes")
	}
	return nil
}
