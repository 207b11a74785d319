package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
)

// stdJSON is what echo's default serializer writes for v.
func stdJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// trickyPieces are the characters encoding/json treats specially.
var trickyPieces = []string{
	"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
	"é", "日本", "😀", "\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "\ufffd", "'", "+",
}

func trickyString(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(6) {
		b.WriteString(trickyPieces[rng.IntN(len(trickyPieces))])
	}
	return b.String()
}

// fill sets every exported string, slice, map and struct field of v to
// random content (nil or empty slices and maps too), so a field added to a
// body later, and missing from its appendJSON, makes the comparison fail.
func fill(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(trickyString(rng))
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i))
			}
		}
	case reflect.Slice:
		switch n := rng.IntN(5); n {
		case 0:
			v.SetZero()
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := range n - 1 {
				fill(rng, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Map:
		if rng.IntN(4) == 0 {
			v.SetZero()
			return
		}
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(12) {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			fill(rng, k)
			fill(rng, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func TestHandWrittenJSONIsEncodingJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for range 2000 {
		var me authMeBody
		fill(rng, reflect.ValueOf(&me).Elem())
		if got, want := string(me.appendJSON(nil))+"\n", stdJSON(t, me); got != want {
			t.Fatalf("authMeBody %+v:\n got %s\nwant %s", me, got, want)
		}
		var env Envelope
		fill(rng, reflect.ValueOf(&env).Elem())
		if got, want := string(envelopeJSON(env).appendJSON(nil))+"\n", stdJSON(t, env); got != want {
			t.Fatalf("Envelope %+v:\n got %s\nwant %s", env, got, want)
		}
		var m map[string]string
		fill(rng, reflect.ValueOf(&m).Elem())
		if got, want := string(appendStringMap(nil, m))+"\n", stdJSON(t, m); got != want {
			t.Fatalf("map %q:\n got %s\nwant %s", m, got, want)
		}
	}
	// The real shapes.
	me := authMeBody{User: authUserBody{ID: "u1", Username: "ada<script>", Role: user.RoleAdmin}, AuthMethod: "jwt", Permissions: user.RoleAdmin.Permissions()}
	if got, want := string(me.appendJSON(nil))+"\n", stdJSON(t, me); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	env := Envelope{Error: "Bad Request", Code: domain.CodeInvalidRequest, Message: "m", RequestID: "r", Details: []domain.FieldError{{Field: "f", Message: "x"}}}
	if got, want := string(envelopeJSON(env).appendJSON(nil))+"\n", stdJSON(t, env); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyPieces {
		f.Add(s)
	}
	f.Add("plain ascii")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// Bodies that embed Envelope are not hand-encoded by its method.
func TestOnlyTheEnvelopeItselfEncodesByHand(t *testing.T) {
	t.Parallel()
	for _, v := range []any{Envelope{}, readyBody{}, &readyBody{}, authLoginBody{}, authTokenBody{}} {
		if _, ok := v.(jsonAppender); ok {
			t.Errorf("%T is a jsonAppender", v)
		}
	}
}

// Through echo: the fast path writes what the default serializer writes,
// ?pretty still indents, and other bodies still go to encoding/json.
func TestJSONSerializerThroughEcho(t *testing.T) {
	t.Parallel()
	e := echo.New()
	me := authMeBody{User: authUserBody{ID: "u1", Username: "ada", Role: user.RoleViewer}, AuthMethod: "session", Permissions: []user.Permission{}, ExpiresAt: "2025-06-01T12:00:00Z"}
	for _, tc := range []struct {
		target string
		body   any
	}{
		{"/", me},
		{"/?pretty", me},
		{"/", map[string]string{"status": "ok"}},
		{"/?pretty", map[string]string{"status": "ok", "b": "<&>"}},
		{"/", envelopeJSON{Error: "Unauthorized", RequestID: "r"}},
		{"/", map[string]any{"status": "ready", "checks": map[string]string{"postgres": "ok"}}},
		{"/", []string{"x"}},
	} {
		run := func(ser echo.JSONSerializer) (string, string) {
			e.JSONSerializer = ser
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodGet, tc.target, nil), rec)
			if err := c.JSON(http.StatusTeapot, tc.body); err != nil {
				t.Fatal(err)
			}
			return rec.Body.String(), rec.Header().Get("Content-Type") + " " + http.StatusText(rec.Code)
		}
		wantBody, wantHdr := run(echo.DefaultJSONSerializer{})
		gotBody, gotHdr := run(jsonSerializer{})
		if gotBody != wantBody || gotHdr != wantHdr {
			t.Errorf("%s %T: got %q (%s), want %q (%s)", tc.target, tc.body, gotBody, gotHdr, wantBody, wantHdr)
		}
	}
}

// BenchmarkMeBodyJSON prices the /auth/me body's encoding alone: by hand
// into a reused buffer, and by encoding/json's Encoder as echo's default
// serializer does.
func BenchmarkMeBodyJSON(b *testing.B) {
	me := authMeBody{
		User:       authUserBody{ID: "9a1b2c3d4e5f60718293a4b5c6d7e8f9", Username: "admin", Role: user.RoleAdmin},
		AuthMethod: "jwt", Permissions: user.RoleAdmin.Permissions(),
	}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = append(me.appendJSON(buf[:0]), '\n')
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := json.NewEncoder(&buf).Encode(me); err != nil {
				b.Fatal(err)
			}
		}
	})
}
