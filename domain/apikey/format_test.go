package apikey_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
)

// mk builds a well-formed key from a body.
func mk(body string) string { return apikey.Prefix + body + apikey.Checksum(body) }

const validBody = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"

func TestChecksumGolden(t *testing.T) {
	t.Parallel()
	// Expected values computed independently (Python zlib.crc32 + base62).
	tests := []struct{ body, want string }{
		{"00000000000000000000000000000000", "2wjyrI"},
		{validBody, "1HTd0k"},
		{"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "4W8LJS"},
		{"00000000000000000000000000000172", "00YwDE"}, // left padding
		{"", "000000"},
	}
	for _, tt := range tests {
		if got := apikey.Checksum(tt.body); got != tt.want {
			t.Errorf("Checksum(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	valid := mk(validBody)
	if len(valid) != apikey.Len || apikey.Len != 45 {
		t.Fatalf("valid key length %d, Len %d; want 45", len(valid), apikey.Len)
	}
	flip := func(s string, i int, c byte) string { b := []byte(s); b[i] = c; return string(b) }

	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", valid, true},
		{"valid all zero body", mk(strings.Repeat("0", 32)), true},
		{"valid padded checksum", mk("00000000000000000000000000000172"), true},
		{"empty", "", false},
		{"prefix only", apikey.Prefix, false},
		{"one short", valid[:44], false},
		{"one long", valid + "0", false},
		{"whitespace padded", " " + valid[:44], false},
		{"trailing newline", valid[:44] + "\n", false},
		{"wrong prefix", "m9m_pk_" + valid[7:], false},
		{"upper prefix", "M9M_SK_" + valid[7:], false},
		{"bad checksum", valid[:44] + string(flipChar(valid[44])), false},
		{"body changed", flip(valid, 10, flipChar(valid[10])), false},
		{"swapped body chars", swap(valid, 8, 9), false},
		{"underscore in body", mk(validBody[:31] + "_"), false},
		{"dash in body", mk("-" + validBody[1:]), false},
		{"non-ascii in body", flip(valid, 20, 0xC3), false},
		{"NUL in body", flip(valid, 20, 0), false},
		{"checksum lowercased", strings.ToLower(valid), false},
		{"jwt-ish", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefgh", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := apikey.Parse(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if tok.Secret() != tt.in {
					t.Fatalf("Secret() does not round-trip")
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted %q", tt.in)
			}
			if !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Fatalf("error message contains the key: %v", err)
			}
			if !tok.IsZero() {
				t.Fatalf("rejected Parse returned a non-zero Token")
			}
		})
	}
}

func flipChar(c byte) byte {
	if c == 'a' {
		return 'b'
	}
	return 'a'
}

func swap(s string, i, j int) string {
	b := []byte(s)
	b[i], b[j] = b[j], b[i]
	return string(b)
}

func TestTokenAccessors(t *testing.T) {
	t.Parallel()
	key := mk(validBody)
	tok, err := apikey.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.DisplayPrefix(); got != "m9m_sk_AbC" {
		t.Errorf("DisplayPrefix = %q", got)
	}
	// sha256 of "m9m_sk_AbCdEfGhIjKlMnOpQrStUvWxYz0123451HTd0k", computed with sha256sum.
	const wantDigest = "6f81253406a102a546c3273653b27f7cf62ca26a2c20df4be685be1a72c21653"
	if got := tok.Digest(); got != wantDigest {
		t.Errorf("Digest = %q, want %q", got, wantDigest)
	}
	other, _ := apikey.Parse(mk(strings.Repeat("0", 32)))
	if other.Digest() == tok.Digest() {
		t.Errorf("different keys share a digest")
	}
	var zero apikey.Token
	if !zero.IsZero() || zero.DisplayPrefix() != "" || zero.String() != "" {
		t.Errorf("zero token: IsZero=%v prefix=%q string=%q", zero.IsZero(), zero.DisplayPrefix(), zero.String())
	}
}

func TestTokenRedactedFormatting(t *testing.T) {
	t.Parallel()
	tok, err := apikey.Parse(mk(validBody))
	if err != nil {
		t.Fatal(err)
	}
	secretPart := validBody[3:] // everything after the displayed prefix
	wrapped := struct {
		Key apikey.Token
		P   *apikey.Token
	}{tok, &tok}
	outputs := map[string]string{
		"String":  tok.String(),
		"%v":      fmt.Sprintf("%v", tok),
		"%+v":     fmt.Sprintf("%+v", tok),
		"%#v":     fmt.Sprintf("%#v", tok),
		"%s":      fmt.Sprintf("%s", tok),
		"%q":      fmt.Sprintf("%q", tok),
		"%x":      fmt.Sprintf("%x", tok),
		"%d":      fmt.Sprintf("%d", tok),
		"Sprint":  fmt.Sprint(tok),
		"struct":  fmt.Sprintf("%+v", wrapped),
		"struct#": fmt.Sprintf("%#v", wrapped),
		"ptr":     fmt.Sprintf("%v", &tok),
		"error":   fmt.Errorf("bad key %v", tok).Error(),
	}
	js, err := json.Marshal(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	for name, out := range outputs {
		if strings.Contains(out, secretPart) || strings.Contains(out, tok.Secret()) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if got := fmt.Sprint(tok); got != "m9m_sk_AbC…" {
		t.Errorf("Sprint = %q, want redacted prefix", got)
	}
	if got := fmt.Sprintf("%q", tok); got != `"m9m_sk_AbC…"` {
		t.Errorf("%%q = %s", got)
	}
	if got := fmt.Sprintf("%#v", tok); got != `apikey.Token("m9m_sk_AbC…")` {
		t.Errorf("%%#v = %s", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mk(validBody))
	f.Add(mk(strings.Repeat("0", 32)))
	f.Add(mk("00000000000000000000000000000172"))
	f.Add(mk(validBody)[:44])
	f.Add(mk(validBody) + "x")
	f.Add("")
	f.Add(apikey.Prefix)
	f.Add("m9m_sk_" + strings.Repeat("_", 38))
	f.Add(strings.ToUpper(mk(validBody)))
	f.Add("m9m_sk_ÀbCdEfGhIjKlMnOpQrStUvWxYz012341HTd0k")
	// One representative per rejection reason; every rejection must read
	// exactly like one of them, so no error text can depend on (or quote) the key.
	valid := mk(validBody)
	messages := map[string]bool{}
	for _, bad := range []string{"", "m9m_pk_" + valid[7:], valid[:44] + "_", valid[:44] + string(flipChar(valid[44]))} {
		_, err := apikey.Parse(bad)
		if err == nil {
			f.Fatalf("Parse accepted %q", bad)
		}
		messages[err.Error()] = true
	}
	if len(messages) != 4 {
		f.Fatalf("rejection reasons are not distinct: %v", messages)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := apikey.Parse(s)
		if err != nil {
			if !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
			if !messages[err.Error()] {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		// Accepted ⇒ exactly the documented shape.
		if tok.Secret() != s || len(s) != apikey.Len || !strings.HasPrefix(s, apikey.Prefix) {
			t.Fatalf("accepted malformed key %q", s)
		}
		body, sum := s[len(apikey.Prefix):len(apikey.Prefix)+apikey.BodyLen], s[len(apikey.Prefix)+apikey.BodyLen:]
		if strings.Trim(body, apikey.Alphabet) != "" || apikey.Checksum(body) != sum {
			t.Fatalf("accepted key with bad body or checksum %q", s)
		}
		if strings.Contains(fmt.Sprint(tok), body[3:]) {
			t.Fatalf("formatting leaks the secret")
		}
	})
}
