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
		{"session cookie", http.Header{"Cookie": {"a=1; " + SessionCookieName + "=abc.def.ghi"}}, authn.KindSession, false},
		{"other cookies only", http.Header{"Cookie": {"a=1; b=2"}}, authn.KindNone, false},
		{"bearer wins over cookie", http.Header{"Authorization": {"Bearer abc"}, "Cookie": {SessionCookieName + "=x.y.z"}}, authn.KindBearer, false},
		{"key wins over cookie", http.Header{"X-Api-Key": {"m9m_sk_abc"}, "Cookie": {SessionCookieName + "=x.y.z"}}, authn.KindAPIKey, false},
		{"bad bearer is not rescued by cookie", http.Header{"Authorization": {"Token x"}, "Cookie": {SessionCookieName + "=x.y.z"}}, 0, true},
		{"two session cookies", http.Header{"Cookie": {SessionCookieName + "=a", SessionCookieName + "=b"}}, 0, true},
		{"empty session cookie", http.Header{"Cookie": {SessionCookieName + "="}}, 0, true},
		{"session cookie not token68", http.Header{"Cookie": {SessionCookieName + "=a%20b"}}, 0, true},
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
	f.Add("Bearer abc.def.ghi", "", "")
	f.Add("", "m9m_sk_abc", "")
	f.Add("Basic YTpi", "m9m_sk_abc", "")
	f.Add("Basic \x00", "", "")
	f.Add(" ", "x", "")
	f.Add("", "", SessionCookieName+"=abc.def")
	f.Add("", "", SessionCookieName+"=a; "+SessionCookieName+"=b")
	f.Add("Bearer x", "", SessionCookieName+"=\"q\"")
	f.Fuzz(func(t *testing.T, authz, key, cookie string) {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", authz)
		}
		if key != "" {
			h.Set("X-API-Key", key)
		}
		if cookie != "" {
			h.Set("Cookie", cookie)
		}
		c, err := ParseCredential(h)
		if authz != "" && key != "" && err == nil {
			t.Fatalf("both headers gave a %v credential", c.Kind)
		}
		if err == nil && c.Kind == authn.KindSession && (authz != "" || key != "" || !isToken68(c.Secret) || c.Secret == "") {
			t.Fatalf("cookie credential %q read alongside a header, or not a token", c.Secret)
		}
	})
}
