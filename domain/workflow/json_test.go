package workflow_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/m9m/auth/domain/workflow"
)

func TestCheckStorable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"plain", `{"a":[1,-2.5,3e10,true,null,"x"]}`, true},
		{"escapes", `["\n\t\"\\\/\u00e9"]`, true},
		{"surrogate pair", `["\ud83d\ude00"]`, true},
		{"escaped backslash then u0000 text", `["\\u0000"]`, true},
		{"NUL escape", `["a\u0000b"]`, false},
		{"NUL escape in a key", `{"\u0000":1}`, false},
		{"lone high surrogate", `["\ud800"]`, false},
		{"high surrogate then text", `["\ud800abcdef"]`, false},
		{"high then high", `["\ud800\ud800"]`, false},
		{"lone low surrogate", `["\udc00"]`, false},
		{"reversed pair", `["\ude00\ud83d"]`, false},
		{"exponent at limit", `[1e1000, 1E-1000]`, true},
		{"exponent over limit", `[1e1001]`, false},
		{"huge exponent", `[1e99999999999999999999]`, false},
		{"negative huge exponent", `[-1.5e-200000]`, false},
		{"1000 digits", "[" + strings.Repeat("9", 1000) + "]", true},
		{"1001 digits", "[" + strings.Repeat("9", 500) + "." + strings.Repeat("9", 501) + "]", false},
		{"exponent budget spent", "[" + strings.TrimSuffix(strings.Repeat("1e900,", 72), ",") + "]", true},
		{"exponent budget exceeded", "[" + strings.TrimSuffix(strings.Repeat("1e900,", 73), ",") + "]", false},
		{"digits in strings are not numbers", `["` + strings.Repeat("9", 5000) + `e99999"]`, true},
		{"invalid utf8 in a string", "[\"\xff\"]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !json.Valid([]byte(tt.doc)) && tt.name != "invalid utf8 in a string" {
				t.Fatalf("test document is not valid JSON: %s", tt.doc)
			}
			msg := workflow.CheckStorable([]byte(tt.doc))
			if (msg == "") != tt.ok {
				t.Fatalf("CheckStorable = %q, want ok=%v", msg, tt.ok)
			}
		})
	}
}

// FuzzCheckStorable feeds arbitrary valid JSON to the scanner: it must never
// panic or loop, and must refuse every document with a NUL or unpaired
// surrogate that Go itself decodes to a replacement or NUL character.
func FuzzCheckStorable(f *testing.F) {
	for _, s := range []string{`[]`, `{"a":"\u0000"}`, `["\ud800"]`, `["\ud83d\ude00"]`, `[1e1000]`, `[-0.5E+3]`, `"\\u0000"`, `["\u00"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		msg := workflow.CheckStorable(raw)
		if msg != "" {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("accepted a document Go cannot decode: %v", err)
		}
		if hasNUL(v) {
			t.Fatalf("accepted a document containing NUL: %q", raw)
		}
	})
}

// hasNUL reports whether any string or key in v contains a NUL character.
func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// BenchmarkCheckStorable measures the scan on a 1 MiB document, the
// default body limit: the check must stay cheap next to the insert.
func BenchmarkCheckStorable(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for sb.Len() < 1<<20 {
		sb.WriteString(`{"id":"node-1","type":"http","params":{"url":"https://example.com/é","n":1.5e3,"s":"\u00e9\ud83d\ude00"}},`)
	}
	doc := []byte(strings.TrimSuffix(sb.String(), ",") + "]")
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if msg := workflow.CheckStorable(doc); msg != "" {
			b.Fatal(msg)
		}
	}
}
