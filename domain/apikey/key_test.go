package apikey_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/user"
)

func ptr(t time.Time) *time.Time { return &t }

func TestKeyUsable(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		key  apikey.Key
		want bool
	}{
		{"fresh, no expiry", apikey.Key{}, true},
		{"expires later", apikey.Key{ExpiresAt: ptr(now.Add(time.Second))}, true},
		{"expires exactly now", apikey.Key{ExpiresAt: ptr(now)}, false},
		{"expired", apikey.Key{ExpiresAt: ptr(now.Add(-time.Hour))}, false},
		{"revoked", apikey.Key{RevokedAt: ptr(now.Add(-time.Minute))}, false},
		{"revoked in grace", apikey.Key{RevokedAt: ptr(now.Add(-time.Minute)), GraceUntil: ptr(now.Add(time.Second))}, true},
		{"revoked, grace ends now", apikey.Key{RevokedAt: ptr(now.Add(-time.Minute)), GraceUntil: ptr(now)}, false},
		{"revoked, grace over", apikey.Key{RevokedAt: ptr(now.Add(-time.Minute)), GraceUntil: ptr(now.Add(-time.Second))}, false},
		{"in grace but expired", apikey.Key{
			RevokedAt: ptr(now.Add(-time.Minute)), GraceUntil: ptr(now.Add(time.Hour)), ExpiresAt: ptr(now.Add(-time.Second)),
		}, false},
		{"grace set, not revoked", apikey.Key{GraceUntil: ptr(now.Add(-time.Hour))}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.key.Usable(now); got != tt.want {
				t.Errorf("Usable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKeyEffective(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scopes []user.Permission
		role   user.Role
		want   []user.Permission
	}{
		{
			"admin keeps all scopes, canonical order",
			[]user.Permission{user.PermAuditRead, user.PermWorkflowsRead},
			user.RoleAdmin,
			[]user.Permission{user.PermWorkflowsRead, user.PermAuditRead},
		},
		{
			"demoted owner loses write",
			[]user.Permission{user.PermWorkflowsWrite, user.PermWorkflowsRead},
			user.RoleViewer,
			[]user.Permission{user.PermWorkflowsRead},
		},
		{"editor cannot use users:manage", []user.Permission{user.PermUsersManage}, user.RoleEditor, []user.Permission{}},
		{
			"duplicates collapse",
			[]user.Permission{user.PermWorkflowsRead, user.PermWorkflowsRead},
			user.RoleViewer,
			[]user.Permission{user.PermWorkflowsRead},
		},
		{"no scopes", nil, user.RoleAdmin, []user.Permission{}},
		{"unknown role", []user.Permission{user.PermWorkflowsRead}, user.Role("ghost"), []user.Permission{}},
		{"unknown scope ignored", []user.Permission{"root:all", user.PermAuditRead}, user.RoleAdmin, []user.Permission{user.PermAuditRead}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := apikey.Key{Scopes: tt.scopes}.Effective(tt.role)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("Effective = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"simple", "CI/CD Integration", true},
		{"one char", "x", true},
		{"100 chars", strings.Repeat("a", 100), true},
		{"100 runes multibyte", strings.Repeat("é", 100), true},
		{"trimmed to 100", "  " + strings.Repeat("a", 100) + "\t", true},
		{"101 chars", strings.Repeat("a", 101), false},
		{"empty", "", false},
		{"only spaces", "   \t ", false},
		{"newline inside", "a\nb", false},
		{"NUL", "a\x00b", false},
		{"escape", "a\x1b[31mb", false},
		{"DEL", "a\x7fb", false},
		{"C1 control", "a\u0085b", false},
		{"invalid utf8", "a\xffb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := apikey.ValidateName(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateName: %v", err)
				}
				return
			}
			assertInvalidField(t, err, "name")
		})
	}
}

func TestValidateScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scopes []string
		role   user.Role
		want   []user.Permission
		ok     bool
	}{
		{"nil means all of role", nil, user.RoleEditor, user.RoleEditor.Permissions(), true},
		{"empty means all of role", []string{}, user.RoleViewer, user.RoleViewer.Permissions(), true},
		{"subset", []string{"workflows:read"}, user.RoleEditor, []user.Permission{user.PermWorkflowsRead}, true},
		{
			"dedupe and canonical order",
			[]string{"audit:read", "workflows:read", "audit:read"},
			user.RoleAdmin,
			[]user.Permission{user.PermWorkflowsRead, user.PermAuditRead},
			true,
		},
		{"unknown", []string{"workflows:read", "root"}, user.RoleAdmin, nil, false},
		{"case matters", []string{"Workflows:Read"}, user.RoleAdmin, nil, false},
		{"padded", []string{" workflows:read"}, user.RoleAdmin, nil, false},
		{"exceeds role", []string{"users:manage"}, user.RoleEditor, nil, false},
		{"viewer write", []string{"workflows:read", "workflows:write"}, user.RoleViewer, nil, false},
		{"empty string scope", []string{""}, user.RoleAdmin, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := apikey.ValidateScopes(tt.scopes, tt.role)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateScopes: %v", err)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
				return
			}
			if got != nil {
				t.Errorf("got %v alongside an error", got)
			}
			assertInvalidField(t, err, "scopes")
		})
	}
}

func TestValidateScopesReportsAll(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 10_000)
	_, err := apikey.ValidateScopes([]string{"nope", "users:manage", long}, user.RoleViewer)
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Details) != 3 {
		t.Fatalf("err = %v, want three field errors", err)
	}
	for _, d := range de.Details {
		if strings.Contains(d.Message, long) || strings.Contains(d.Message, "nope") {
			t.Errorf("message echoes unknown client input: %q", d.Message)
		}
	}
	if !strings.Contains(de.Details[1].Message, "users:manage") {
		t.Errorf("message for a known permission should name it: %q", de.Details[1].Message)
	}
}

func assertInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Details) == 0 {
		t.Fatalf("err = %v, want field details", err)
	}
	for _, d := range de.Details {
		if d.Field != field {
			t.Errorf("field = %q, want %q", d.Field, field)
		}
	}
}
