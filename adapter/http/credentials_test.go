package httpapi

import (
	"net/http"
	"testing"

	"github.com/m9m/auth/usecase/authn"
)

func TestParseCredentialRefusesAmbiguity(t *testing.T) {
	tests := []struct {
		name    string
		header  http.Header
		kind    authn.Kind
		wantErr bool
	}{
		{"none", http.Header{}, authn.KindNone, false},
		{"bearer", http.Header{"Authorization": {"Bearer abc.def.ghi"}}, authn.KindBearer, false},
		{"key", http.Header{"X-Api-Key": {"m9m_sk_abc"}}, authn.KindAPIKey, false},
		{"basic", http.Header{"Authorization": {"Basic YTpi"}}, authn.KindBasic, false},
		{"bearer and key", http.Header{"Authorization": {"Bearer abc"}, "X-Api-Key": {"m9m_sk_abc"}}, 0, true},
		{"basic and key", http.Header{"Authorization": {"Basic YTpi"}, "X-Api-Key": {"m9m_sk_abc"}}, 0, true},
		{"unknown scheme and key", http.Header{"Authorization": {"Token x"}, "X-Api-Key": {"m9m_sk_abc"}}, 0, true},
		{"blank authorization and key", http.Header{"Authorization": {""}, "X-Api-Key": {"m9m_sk_abc"}}, 0, true},
		{"bearer and blank key", http.Header{"Authorization": {"Bearer abc"}, "X-Api-Key": {""}}, 0, true},
		{"blank authorization", http.Header{"Authorization": {""}}, 0, true},
		{"two authorizations", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, 0, true},
		{"unknown scheme", http.Header{"Authorization": {"Token x"}}, 0, true},
		{"bearer with NUL", http.Header{"Authorization": {"Bearer a\x00b"}}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCredential(tt.header)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && c.Kind != tt.kind {
				t.Fatalf("kind = %v, want %v", c.Kind, tt.kind)
			}
		})
	}
}

// FuzzParseCredential: any header pair parses without panicking, and a
// request carrying both headers is never given a credential.
func FuzzParseCredential(f *testing.F) {
	f.Add("Bearer abc.def.ghi", "")
	f.Add("", "m9m_sk_abc")
	f.Add("Basic YTpi", "m9m_sk_abc")
	f.Add("Basic \x00", "")
	f.Add(" ", "x")
	f.Fuzz(func(t *testing.T, authz, key string) {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", authz)
		}
		if key != "" {
			h.Set("X-API-Key", key)
		}
		c, err := ParseCredential(h)
		if authz != "" && key != "" && err == nil {
			t.Fatalf("both headers gave a %v credential", c.Kind)
		}
	})
}
