package workflow_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
)

func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("error = %v, want INVALID_REQUEST", err)
	}
	var out []string
	for _, d := range domain.As(err).Details {
		out = append(out, d.Field)
	}
	return out
}

func TestWorkflowValidate(t *testing.T) {
	t.Parallel()
	valid := func() *workflow.Workflow {
		return &workflow.Workflow{Name: "Nightly sync", Nodes: workflow.EmptyNodes, Connections: workflow.EmptyConnections}
	}
	tests := []struct {
		name   string
		mutate func(*workflow.Workflow)
		want   []string
	}{
		{"valid", func(*workflow.Workflow) {}, nil},
		{"valid with content", func(w *workflow.Workflow) {
			w.Nodes = json.RawMessage(` [{"id":"a","type":"http","params":{"n":1.5e3}}] `)
			w.Connections = json.RawMessage(`{"a":["b"]}`)
			w.Webhook = &workflow.Webhook{Path: "github/push"}
		}, nil},
		{"name empty", func(w *workflow.Workflow) { w.Name = "" }, []string{"name"}},
		{"name 200 runes", func(w *workflow.Workflow) { w.Name = strings.Repeat("é", 200) }, nil},
		{"name 201 runes", func(w *workflow.Workflow) { w.Name = strings.Repeat("a", 201) }, []string{"name"}},
		{"name control char", func(w *workflow.Workflow) { w.Name = "a\nb" }, []string{"name"}},
		{"name invalid utf8", func(w *workflow.Workflow) { w.Name = "a\xffb" }, []string{"name"}},
		{"nodes object", func(w *workflow.Workflow) { w.Nodes = json.RawMessage(`{}`) }, []string{"nodes"}},
		{"nodes null", func(w *workflow.Workflow) { w.Nodes = json.RawMessage(`null`) }, []string{"nodes"}},
		{"nodes missing", func(w *workflow.Workflow) { w.Nodes = nil }, []string{"nodes"}},
		{"nodes malformed", func(w *workflow.Workflow) { w.Nodes = json.RawMessage(`[1,`) }, []string{"nodes"}},
		{"connections array", func(w *workflow.Workflow) { w.Connections = json.RawMessage(`[]`) }, []string{"connections"}},
		{"connections string", func(w *workflow.Workflow) { w.Connections = json.RawMessage(`"{}"`) }, []string{"connections"}},
		{"nodes with NUL escape", func(w *workflow.Workflow) { w.Nodes = json.RawMessage(`["\u0000"]`) }, []string{"nodes"}},
		{"bad path", func(w *workflow.Workflow) { w.Webhook = &workflow.Webhook{Path: "/x"} }, []string{"webhook.path"}},
		{"every problem at once", func(w *workflow.Workflow) {
			w.Name, w.Nodes, w.Connections = "", json.RawMessage(`1`), json.RawMessage(`1`)
			w.Webhook = &workflow.Webhook{Path: ""}
		}, []string{"name", "nodes", "connections", "webhook.path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := valid()
			tt.mutate(w)
			got := fields(t, w.Validate())
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("invalid fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidatePath(t *testing.T) {
	t.Parallel()
	good := []string{"a", "A-z_0/9", "github/push/main", strings.Repeat("p", 200), "a/b-c_d"}
	bad := []string{
		"", "/a", "a/", "a//b", "a/../b", "..", "a.b", "a b", "a%2Fb", "a?b", "a#b", "ä",
		strings.Repeat("p", 201), "a\x00", "a\\b", "/",
	}
	for _, p := range good {
		if err := workflow.ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range bad {
		if got := fields(t, workflow.ValidatePath(p)); len(got) != 1 || got[0] != "webhook.path" {
			t.Errorf("ValidatePath(%q) fields = %v, want [webhook.path]", p, got)
		}
	}
}

func TestValidateHeaderName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, canon string
		ok        bool
	}{
		{"x-webhook-token", "X-Webhook-Token", true},
		{"X-Api-Secret", "X-Api-Secret", true},
		{"Authorization", "Authorization", true},
		{"x~custom!", "X~custom!", true},
		{"", "", false},
		{"X Token", "", false},
		{"X-Token:", "", false},
		{"X-Tök", "", false},
		{strings.Repeat("x", 101), "", false},
		{"content-type", "", false},
		{"Host", "", false},
		{"x-m9m-signature", "", false},
		{"X-M9M-Timestamp", "", false},
		{"x-forwarded-for", "", false},
	}
	for _, tt := range tests {
		canon, err := workflow.ValidateHeaderName(tt.in)
		if (err == nil) != tt.ok || canon != tt.canon {
			t.Errorf("ValidateHeaderName(%q) = %q, %v; want %q ok=%v", tt.in, canon, err, tt.canon, tt.ok)
		}
	}
}

func TestSecretValidation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("s", 1025)
	tests := []struct {
		name  string
		err   error
		field string // "" when valid
	}{
		{"header value ok", workflow.ValidateHeaderValue("tok en\t1-0123456789"), ""},
		{"header value of 15 characters", workflow.ValidateHeaderValue("012345678901234"), "webhook.auth.value"},
		{"header value of 16 multibyte characters", workflow.ValidateHeaderValue(strings.Repeat("é", 16)), ""},
		{"header value empty", workflow.ValidateHeaderValue(""), "webhook.auth.value"},
		{"header value 1 KiB", workflow.ValidateHeaderValue(strings.Repeat("v", 1024)), ""},
		{"header value too long", workflow.ValidateHeaderValue(long), "webhook.auth.value"},
		{"header value CRLF", workflow.ValidateHeaderValue("a\r\nX-Evil: 1"), "webhook.auth.value"},
		{"header value padded", workflow.ValidateHeaderValue(" a"), "webhook.auth.value"},
		{"username ok", workflow.ValidateBasicUsername("hook-user"), ""},
		{"username colon", workflow.ValidateBasicUsername("a:b"), "webhook.auth.username"},
		{"username empty", workflow.ValidateBasicUsername(""), "webhook.auth.username"},
		{"username too long", workflow.ValidateBasicUsername(strings.Repeat("u", 201)), "webhook.auth.username"},
		{"password ok with colon", workflow.ValidateBasicPassword("p:w-0123456789-x"), ""},
		{"password of 15 characters", workflow.ValidateBasicPassword("p:w-0123456789-"), "webhook.auth.password"},
		{"password empty", workflow.ValidateBasicPassword(""), "webhook.auth.password"},
		{"password too long", workflow.ValidateBasicPassword(long), "webhook.auth.password"},
		{"hmac ok", workflow.ValidateHMACSecret("s-0123456789abcd"), ""},
		{"hmac of 15 characters", workflow.ValidateHMACSecret("s-0123456789abc"), "webhook.auth.secret"},
		{"hmac empty", workflow.ValidateHMACSecret(""), "webhook.auth.secret"},
		{"hmac too long", workflow.ValidateHMACSecret(long), "webhook.auth.secret"},
	}
	for _, tt := range tests {
		got := fields(t, tt.err)
		if tt.field == "" && got != nil || tt.field != "" && (len(got) != 1 || got[0] != tt.field) {
			t.Errorf("%s: fields = %v, want %q", tt.name, got, tt.field)
		}
		if tt.err != nil && strings.Contains(tt.err.Error(), strings.Repeat("s", 100)) {
			t.Errorf("%s: the error repeats the secret", tt.name)
		}
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	// SHA-256("abc"), FIPS 180-2 test vector.
	if got, want := workflow.Digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("Digest = %s, want %s", got, want)
	}
}

func TestAuthType(t *testing.T) {
	t.Parallel()
	for _, a := range []workflow.AuthType{workflow.AuthNone, workflow.AuthHeader, workflow.AuthBasic, workflow.AuthHMAC} {
		if !a.Valid() {
			t.Errorf("%s not valid", a)
		}
		if a.HasSecret() == (a == workflow.AuthNone) {
			t.Errorf("%s HasSecret = %v", a, a.HasSecret())
		}
	}
	for _, a := range []workflow.AuthType{"", "NONE", "jwt"} {
		if a.Valid() {
			t.Errorf("%q valid", a)
		}
	}
}
