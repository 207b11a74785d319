package webhook_test

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/m9m/auth/usecase/webhook"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseSignatureHeader(t *testing.T) {
	t.Parallel()
	good := []string{"sha256=" + hex64, "sha256=" + strings.ToUpper(hex64)}
	bad := []string{"", "sha256=", hex64, "sha1=" + hex64[:40], "SHA256=" + hex64, "sha256=" + hex64[:63],
		"sha256=" + hex64 + "0", " sha256=" + hex64, "sha256=" + hex64 + " ", "sha256=" + hex64[:62] + "zz",
		"sha256=" + hex64 + ",sha256=" + hex64, "sha512=" + hex64 + hex64}
	for _, v := range good {
		mac, err := webhook.ParseSignatureHeader(v)
		if err != nil || len(mac) != 32 || hex.EncodeToString(mac) != hex64 {
			t.Errorf("ParseSignatureHeader(%q) = %x, %v", v, mac, err)
		}
	}
	for _, v := range bad {
		if mac, err := webhook.ParseSignatureHeader(v); err == nil {
			t.Errorf("ParseSignatureHeader(%q) = %x, want an error", v, mac)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	good := map[string]int64{"0": 0, "1769508000": 1769508000, "999999999999": 999999999999}
	for v, want := range good {
		if got, err := webhook.ParseTimestamp(v); err != nil || got != want {
			t.Errorf("ParseTimestamp(%q) = %d, %v", v, got, err)
		}
	}
	for _, v := range []string{"", "-1", "+1", " 1", "1 ", "01", "1.5", "1e9", "1000000000000", "１"} {
		if got, err := webhook.ParseTimestamp(v); err == nil {
			t.Errorf("ParseTimestamp(%q) = %d, want an error", v, got)
		}
	}
}

// FuzzParseSignatureHeader: never panics; whatever it accepts is exactly
// the prefix and the hex spelling of the 32 bytes it returns.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{"sha256=" + hex64, "sha256=", "", "sha256=" + strings.ToUpper(hex64), "sha256=zz", "sha256=" + hex64 + "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		mac, err := webhook.ParseSignatureHeader(v)
		if err != nil {
			if mac != nil {
				t.Fatal("error with a result")
			}
			return
		}
		if len(mac) != 32 || "sha256="+hex.EncodeToString(mac) != "sha256="+strings.ToLower(strings.TrimPrefix(v, "sha256=")) {
			t.Fatalf("accepted %q as %x", v, mac)
		}
		if !bytes.HasPrefix([]byte(v), []byte("sha256=")) {
			t.Fatalf("accepted %q without the prefix", v)
		}
	})
}

// FuzzParseTimestamp: never panics; whatever it accepts is the one
// canonical decimal spelling of what it returns.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"0", "1769508000", "01", "-5", "999999999999", "9999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := webhook.ParseTimestamp(v)
		if err != nil {
			return
		}
		if n < 0 || strconv.FormatInt(n, 10) != v {
			t.Fatalf("accepted %q as %d", v, n)
		}
	})
}
