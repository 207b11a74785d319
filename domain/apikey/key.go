package apikey

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
)

// MaxNameLen is the longest key name, in characters, after trimming.
const MaxNameLen = 100

// Key is a stored API key. It never holds the key itself, only its Digest
// (to look it up) and its display Prefix (to tell keys apart in listings).
type Key struct {
	ID      string
	OwnerID string
	Name    string
	Prefix  string // Token.DisplayPrefix, e.g. "m9m_sk_AbC"
	Digest  string // Token.Digest, hex SHA-256 of the key
	// Scopes narrow what the key may do; the owner's role at request time
	// narrows them further (see Effective).
	Scopes     []user.Permission
	CreatedAt  time.Time
	ExpiresAt  *time.Time // nil: never expires
	LastUsedAt *time.Time
	RevokedAt  *time.Time // nil: not revoked
	// GraceUntil keeps a rotated-out key working until this time, so clients
	// can switch to its successor without an outage. It is nil unless the key
	// was revoked by a rotation that asked for an overlap; an explicit revoke
	// must clear it so the key stops at once.
	GraceUntil *time.Time
}

// Usable reports whether the key may authenticate a request at now: it has
// not expired, and it is either not revoked or still inside its rotation grace.
func (k Key) Usable(now time.Time) bool {
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return false
	}
	if k.RevokedAt != nil {
		return k.GraceUntil != nil && now.Before(*k.GraceUntil)
	}
	return true
}

// Effective returns the permissions the key grants when its owner holds role:
// its scopes intersected with the role's permissions, in the canonical order
// of user.AllPermissions (so callers and responses see a stable order), with
// no duplicates. A demoted owner's keys lose what the new role lacks at once.
func (k Key) Effective(role user.Role) []user.Permission {
	out := make([]user.Permission, 0, len(k.Scopes))
	for _, p := range user.AllPermissions {
		if role.Has(p) && slices.Contains(k.Scopes, p) {
			out = append(out, p)
		}
	}
	return out
}

// ValidateName checks a key name: 1–100 characters once surrounding space is
// trimmed, valid UTF-8, no control characters (names end up in logs and UIs).
// Callers should store strings.TrimSpace(name).
func ValidateName(name string) error {
	if !utf8.ValidString(name) {
		return domain.InvalidField("name", "must be valid UTF-8")
	}
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return domain.InvalidField("name", "is required")
	case n > MaxNameLen:
		return domain.InvalidField("name", fmt.Sprintf("must be at most %d characters", MaxNameLen))
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return domain.InvalidField("name", "must not contain control characters")
	}
	return nil
}

// ValidateScopes turns requested scope strings into permissions for a key
// owned by someone with role. Every scope must be a known permission that the
// role grants (a key can never exceed its owner). Empty or nil means all of
// the role's permissions. The result has no duplicates and is in the
// canonical order of user.AllPermissions. All problems are reported at once
// as a 400 on the field "scopes".
func ValidateScopes(scopes []string, role user.Role) ([]user.Permission, error) {
	if len(scopes) == 0 {
		return role.Permissions(), nil
	}
	var problems []domain.FieldError
	want := make(map[user.Permission]bool, len(scopes))
	for i, s := range scopes {
		p := user.Permission(s)
		switch {
		case !user.ValidPermission(p):
			// The value is client input of any size; name its index, not it.
			problems = append(problems, domain.FieldError{
				Field: "scopes", Message: fmt.Sprintf("scopes[%d] is not a known permission", i),
			})
		case !role.Has(p):
			problems = append(problems, domain.FieldError{
				Field: "scopes", Message: fmt.Sprintf("%q is not granted by your role", s),
			})
		default:
			want[p] = true
		}
	}
	if len(problems) > 0 {
		return nil, domain.Invalid(problems...)
	}
	out := make([]user.Permission, 0, len(want))
	for _, p := range user.AllPermissions {
		if want[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// StoppedBefore reports whether the key stopped working before t, so it may
// be forgotten once t is a retention period ago: it expired before t, or it
// was revoked before t and any rotation grace ended before t too. A key that
// still works at t never has.
func (k Key) StoppedBefore(t time.Time) bool {
	if k.ExpiresAt != nil && k.ExpiresAt.Before(t) {
		return true
	}
	return k.RevokedAt != nil && k.RevokedAt.Before(t) && (k.GraceUntil == nil || k.GraceUntil.Before(t))
}
