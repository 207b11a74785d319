// Package user models the people who log in to m9m: their identity, role and
// the rules their usernames and passwords must follow.
package user

import (
	"bufio"
	_ "embed" // common_passwords.txt
	"strings"
	"time"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
)

// User is an account that can log in. PasswordHash is an encoded (PHC) hash,
// never a password; Disabled users cannot log in and their tokens and API
// keys stop working.
type User struct {
	ID           string
	Username     string
	Role         Role
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Username and password limits. Passwords are measured in characters (runes),
// not bytes, so a passphrase in any script gets the same allowance; the upper
// bound only keeps hashing cost bounded.
const (
	MinUsernameLen = 3
	MaxUsernameLen = 64
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// NormalizeUsername returns the canonical form of a username: surrounding
// white space removed and lower-cased. Usernames are unique and looked up in
// this form, so "Admin" and "admin" are the same account.
func NormalizeUsername(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidateUsername checks the normalized form of s: 3–64 characters from
// [a-z0-9._-]. The small alphabet keeps usernames unambiguous (no look-alike
// Unicode, no spaces) and safe to show in logs and UIs.
func ValidateUsername(s string) error {
	n := NormalizeUsername(s)
	if len(n) < MinUsernameLen || len(n) > MaxUsernameLen {
		return domain.InvalidField("username", "must be 3 to 64 characters long")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return domain.InvalidField("username", "may contain only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// ValidatePassword applies the NIST SP 800-63B rules: 8–1024 characters, no
// composition rules, and none of the most common passwords (compared without
// regard to case, since "Password" is no safer than "password").
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return domain.InvalidField("password", "must be at least 8 characters long")
	}
	if n > MaxPasswordLen {
		return domain.InvalidField("password", "must be at most 1024 characters long")
	}
	if IsCommonPassword(pw) {
		return domain.InvalidField("password", "is too common; choose a less predictable password")
	}
	return nil
}

//go:embed common_passwords.txt
var commonPasswordsFile string

// commonPasswords is built once at start-up from the embedded list.
var commonPasswords = parseCommonPasswords(commonPasswordsFile)

func parseCommonPasswords(s string) map[string]struct{} {
	m := make(map[string]struct{}, 1024)
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
}

// IsCommonPassword reports whether pw, lower-cased, is on the embedded list
// of the ~1,000 most common passwords.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords[strings.ToLower(pw)]
	return ok
}
