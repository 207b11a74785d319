package webhook

import (
	"net/textproto"
	"regexp"
	"sort"
	"strings"
)

// Limits on the headers stored with a delivery.
const (
	MaxStoredHeaders     = 64
	MaxStoredHeaderBytes = 1024
)

// credentialHeaders are never stored, whatever the webhook's auth type.
var credentialHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-Api-Key":           true,
	HeaderSignature:       true,
}

// secretish matches header names that look like they carry a credential
// (X-Hub-Signature, X-Gitlab-Token, X-Shopify-Hmac-Sha256's sibling keys,
// X-Webhook-Secret, ...): better to drop a harmless header than to keep
// another service's secret.
var secretish = regexp.MustCompile(`(?i)(secret|token|key|auth|pass|sig|cookie|session|cred|hmac)`)

// StoredHeaders returns the headers of a delivery that may be stored and
// shown to users: every header except credentials, the webhook's own auth
// header and anything whose name looks secret. At most MaxStoredHeaders
// (by name order) are kept, each value cut to MaxStoredHeaderBytes, so a
// caller cannot make a delivery record large through its headers.
func StoredHeaders(h map[string][]string, authHeader string) map[string]string {
	authHeader = textproto.CanonicalMIMEHeaderKey(authHeader)
	names := make([]string, 0, len(h))
	for name := range h {
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if credentialHeaders[canon] || canon == authHeader || secretish.MatchString(canon) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]string, min(len(names), MaxStoredHeaders))
	for _, name := range names {
		if len(out) == MaxStoredHeaders {
			break
		}
		out[textproto.CanonicalMIMEHeaderKey(name)] = clip(strings.Join(h[name], ", "))
	}
	return out
}

// clip cuts v to MaxStoredHeaderBytes without splitting a UTF-8 sequence
// and replaces invalid UTF-8, so the value stores and prints cleanly.
func clip(v string) string {
	if len(v) > MaxStoredHeaderBytes {
		v = v[:MaxStoredHeaderBytes]
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}
