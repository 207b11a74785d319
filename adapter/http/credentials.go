package httpapi

import (
	"encoding/base64"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/usecase/authn"
)

// Credentials longer than this are refused unread: no legitimate token, key
// or basic pair comes close, and it bounds the work an attacker can cause.
const maxCredentialLen = 8 << 10

// maxCookieHeaderLen bounds one Cookie header line, far above what a
// browser sends for a site (about 4 KiB a cookie, some tens of cookies).
const maxCookieHeaderLen = 64 << 10

// ParseCredential extracts the caller's credential from the request headers
// in the contract's order (§3): Bearer, then X-API-Key, then Basic. A request
// must present one credential: Authorization and X-API-Key together are an
// error (401), as is a malformed one, never a fall-through to the next
// method. No credential at all returns KindNone. Keys are never read from
// the query string.
//
// Only when no Authorization or X-API-Key header is present is the
// console's session cookie read (contract §4a): a request that presents a
// header is judged by it alone.
func ParseCredential(h http.Header) (authn.Credential, error) {
	authz := h.Values("Authorization")
	keys := h.Values("X-API-Key")
	if len(authz) > 1 || len(keys) > 1 {
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	var authzValue, keyValue string
	if len(authz) == 1 {
		authzValue = authz[0]
	}
	if len(keys) == 1 {
		keyValue = keys[0]
	}
	// net/http trims header values, so a blank header arrives as "": it was
	// still presented, and it is no credential.
	if (len(authz) == 1 && strings.TrimSpace(authzValue) == "") || (len(keys) == 1 && strings.TrimSpace(keyValue) == "") {
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	cred, err := parseCredential(authzValue, keyValue)
	if err != nil || cred.Kind != authn.KindNone {
		return cred, err
	}
	return parseSessionCookie(h)
}

// parseSessionCookie reads the session cookie. Two cookies of that name
// (one planted by a sibling page, say) are refused rather than guessed
// between; a malformed value is a 401 like any bad credential.
func parseSessionCookie(h http.Header) (authn.Credential, error) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return authn.Credential{Kind: authn.KindNone}, nil
	}
	var found []string
	for _, line := range lines {
		if len(line) > maxCookieHeaderLen {
			return authn.Credential{}, domain.ErrUnauthenticated
		}
		if !strings.Contains(line, SessionCookieName) {
			continue
		}
		for _, c := range (&http.Request{Header: http.Header{"Cookie": {line}}}).Cookies() {
			if c.Name == SessionCookieName {
				found = append(found, c.Value)
			}
		}
	}
	switch {
	case len(found) == 0:
		return authn.Credential{Kind: authn.KindNone}, nil
	case len(found) > 1, found[0] == "", len(found[0]) > maxCredentialLen, !isToken68(found[0]):
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	return authn.Credential{Kind: authn.KindSession, Secret: found[0]}, nil
}

func parseCredential(authorization, apiKey string) (authn.Credential, error) {
	if len(authorization) > maxCredentialLen || len(apiKey) > maxCredentialLen {
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	scheme, rest, hasAuthz := splitScheme(authorization)
	if hasAuthz && apiKey != "" {
		// Two credentials: judging only one would let the other be bad, or
		// of a disabled method, and still pass (contract §3). Refuse both.
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	if hasAuthz && strings.EqualFold(scheme, "Bearer") {
		token := strings.TrimSpace(rest)
		if token == "" || !isToken68(token) {
			return authn.Credential{}, domain.ErrUnauthenticated
		}
		return authn.Credential{Kind: authn.KindBearer, Secret: token}, nil
	}
	if apiKey != "" {
		k := strings.TrimSpace(apiKey)
		if k == "" || !isToken68(k) {
			return authn.Credential{}, domain.ErrUnauthenticated
		}
		return authn.Credential{Kind: authn.KindAPIKey, Secret: k}, nil
	}
	if !hasAuthz {
		return authn.Credential{Kind: authn.KindNone}, nil
	}
	if !strings.EqualFold(scheme, "Basic") {
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil || !utf8.Valid(raw) {
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || strings.ContainsAny(user, "\x00\r\n") {
		return authn.Credential{}, domain.ErrUnauthenticated
	}
	return authn.Credential{Kind: authn.KindBasic, Username: user, Password: pass}, nil
}

// splitScheme splits "Scheme credentials". An empty or whitespace-only header
// counts as present (and then fails), because the caller sent it.
func splitScheme(v string) (scheme, rest string, present bool) {
	if v == "" {
		return "", "", false
	}
	v = strings.TrimLeft(v, " \t")
	scheme, rest, _ = strings.Cut(v, " ")
	return scheme, rest, true
}

// isToken68 reports whether s is an RFC 7235 token68 (what bearer tokens and
// our keys are made of), which rules out spaces, control bytes and NULs.
func isToken68(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return true
}
