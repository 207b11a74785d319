package audit_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/m9m/auth/domain/audit"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestSanitized(t *testing.T) {
	t.Parallel()
	e := audit.Event{
		ActorName: "ev\x00il\xffname",
		UserAgent: strings.Repeat("é", 400), // 800 bytes
		Action:    audit.ActionLogin,
		Outcome:   audit.OutcomeFailure,
		Metadata:  map[string]string{"k\x00": "v\x00", "": "dropped"},
	}
	got := e.Sanitized()
	if got.ActorName != "evil\uFFFDname" {
		t.Errorf("ActorName = %q", got.ActorName)
	}
	if len(got.UserAgent) != 512 || !utf8.ValidString(got.UserAgent) {
		t.Errorf("UserAgent: %d bytes, valid %v", len(got.UserAgent), utf8.ValidString(got.UserAgent))
	}
	if len(got.Metadata) != 1 || got.Metadata["k"] != "v" {
		t.Errorf("Metadata = %q", got.Metadata)
	}
	if got.Action != audit.ActionLogin || got.Outcome != audit.OutcomeFailure {
		t.Errorf("action/outcome changed: %q %q", got.Action, got.Outcome)
	}
}

func TestSanitizedCopiesMetadata(t *testing.T) {
	t.Parallel()
	m := map[string]string{"a": "1"}
	got := audit.Event{Metadata: m}.Sanitized()
	m["a"] = "2"
	m["b"] = "3"
	if len(got.Metadata) != 1 || got.Metadata["a"] != "1" {
		t.Fatalf("sanitized metadata follows the caller's map: %v", got.Metadata)
	}
	if (audit.Event{Metadata: map[string]string{}}).Sanitized().Metadata != nil {
		t.Fatal("empty metadata should become nil")
	}
}

func TestSanitizedCapsMetadataDeterministically(t *testing.T) {
	t.Parallel()
	m := map[string]string{}
	for i := range 100 {
		m[fmt.Sprintf("k%03d", i)] = "v"
	}
	got := audit.Event{Metadata: m}.Sanitized().Metadata
	if len(got) != 32 {
		t.Fatalf("kept %d keys, want 32", len(got))
	}
	for i := range 32 {
		if _, ok := got[fmt.Sprintf("k%03d", i)]; !ok {
			t.Fatalf("key k%03d missing: the first keys in sorted order must be kept", i)
		}
	}
}

// FuzzSanitized: whatever a caller puts in an event, the result is storable
// (valid UTF-8, no NUL, bounded) and sanitizing twice changes nothing.
func FuzzSanitized(f *testing.F) {
	f.Add("alice", "curl/8", "k", "v")
	f.Add("\x00", "\xff\xfe", "\x00", "\xc3")
	f.Add(strings.Repeat("ü", 200), strings.Repeat("\U0001F600", 200), "", "")
	f.Fuzz(func(t *testing.T, name, ua, k, v string) {
		e := audit.Event{ActorName: name, UserAgent: ua, TargetID: name, Metadata: map[string]string{k: v, name: ua}}
		s := e.Sanitized()
		for _, field := range []string{s.ActorName, s.UserAgent, s.TargetID} {
			if !utf8.ValidString(field) || strings.Contains(field, "\x00") {
				t.Fatalf("unstorable field %q", field)
			}
		}
		if len(s.ActorName) > 256 || len(s.UserAgent) > 512 {
			t.Fatalf("over the limits: %d %d", len(s.ActorName), len(s.UserAgent))
		}
		for mk, mv := range s.Metadata {
			if mk == "" || !utf8.ValidString(mk+mv) || strings.Contains(mk+mv, "\x00") || len(mk) > 64 || len(mv) > 1024 {
				t.Fatalf("unstorable metadata %q=%q", mk, mv)
			}
		}
		again := s.Sanitized()
		if fmt.Sprint(again) != fmt.Sprint(s) {
			t.Fatalf("not idempotent: %+v vs %+v", s, again)
		}
	})
}
