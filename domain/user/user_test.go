package user_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
)

func TestNormalizeUsername(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"admin", "admin"},
		{"  Admin\t", "admin"},
		{"JOHN.DOE", "john.doe"},
		{"", ""},
		{" \n ", ""},
	}
	for _, tt := range tests {
		if got := user.NormalizeUsername(tt.in); got != tt.want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// assertField checks that err is an INVALID_REQUEST naming exactly field.
func assertField(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("error = %v, want domain.ErrInvalid", err)
	}
	e := domain.As(err)
	if len(e.Details) != 1 || e.Details[0].Field != field {
		t.Fatalf("details = %+v, want one entry for %q", e.Details, field)
	}
}

func TestValidateUsername(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"simple", "admin", true},
		{"minimum length", "abc", true},
		{"maximum length", strings.Repeat("a", 64), true},
		{"all allowed characters", "a.b_c-d0", true},
		{"normalized first", "  Alice.Smith ", true},
		{"too short", "ab", false},
		{"too short after trim", "  ab  ", false},
		{"too long", strings.Repeat("a", 65), false},
		{"empty", "", false},
		{"space inside", "john doe", false},
		{"at sign", "john@example.com", false},
		{"non-ASCII letter", "jöhn", false},
		{"Cyrillic look-alike", "аdmin", false},
		{"slash", "a/b/c", false},
		{"NUL", "abc\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := user.ValidateUsername(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateUsername(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			assertField(t, err, "username")
		})
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"eight characters", "k7#pLq2z", true},
		{"long passphrase", "correct horse battery staple", true},
		{"no composition rules", "zebraumbrellakettle", true},
		{"maximum length", strings.Repeat("x7", 512), true},
		{"runes not bytes: 8 multi-byte runes", "ĝĥĵŝŭĉĝĥ", true},
		{"empty", "", false},
		{"seven characters", "k7#pLq2", false},
		{"runes not bytes: 7 runes of 14 bytes", "ĝĥĵŝŭĉĝ", false},
		{"too long", strings.Repeat("x", 1025), false},
		{"common", "password", false},
		{"common, other case", "PassWord", false},
		{"common digits", "12345678", false},
		{"common phrase", "iloveyou", false},
		{"common keyboard walk", "qwertyuiop", false},
		{"common with suffix", "password123", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := user.ValidatePassword(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidatePassword(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			assertField(t, err, "password")
		})
	}
}

func TestValidatePasswordMessageNeverEchoesPassword(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"short", "iloveyou", strings.Repeat("y", 2000)} {
		err := user.ValidatePassword(pw)
		e := domain.As(err)
		for _, d := range e.Details {
			if strings.Contains(d.Message, pw) {
				t.Errorf("message %q echoes the password", d.Message)
			}
		}
	}
}

func TestCommonPasswordList(t *testing.T) {
	t.Parallel()
	entries := user.CommonPasswords()
	if len(entries) != 1000 {
		t.Fatalf("list has %d entries, want 1000", len(entries))
	}
	seen := make(map[string]bool, len(entries))
	for _, pw := range entries {
		if seen[pw] {
			t.Errorf("duplicate entry %q", pw)
		}
		seen[pw] = true
		if pw != strings.ToLower(pw) || strings.TrimSpace(pw) != pw {
			t.Errorf("entry %q is not lower-case and trimmed", pw)
		}
		if utf8.RuneCountInString(pw) < user.MinPasswordLen {
			t.Errorf("entry %q is shorter than the length rule and wastes a slot", pw)
		}
		if !user.IsCommonPassword(strings.ToUpper(pw)) {
			t.Errorf("IsCommonPassword(%q) = false", strings.ToUpper(pw))
		}
	}
}
