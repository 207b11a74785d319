package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// issueDevice runs Issue and returns the Set-Cookie it wrote.
func issueDevice(t *testing.T, d *DeviceCookies, id string) (string, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", nil), rec)
	got := d.Issue(c, id)
	ck, err := http.ParseSetCookie(rec.Header().Get("Set-Cookie"))
	if err != nil {
		t.Fatalf("Set-Cookie: %v", err)
	}
	return got, ck
}

func deviceHeader(values ...string) http.Header {
	h := http.Header{}
	for _, v := range values {
		h.Add("Cookie", DeviceCookieName+"="+v)
	}
	return h
}

func TestDeviceCookieRoundTripAndRefusals(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	old := []byte("previous-jwt-secret-previous-jwt-secret")
	d := NewDeviceCookies([]byte("current-jwt-secret-current-jwt-secret"), [][]byte{old}, 0, clock)

	id, ck := issueDevice(t, d, "")
	if len(id) != 22 || ck.Name != DeviceCookieName || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("device cookie %q: %+v", id, ck)
	}
	if ck.MaxAge != int(DefaultDeviceCookieAge.Seconds()) {
		t.Fatalf("device cookie Max-Age %d, want %v", ck.MaxAge, DefaultDeviceCookieAge)
	}
	if strings.Contains(ck.Value, "session") || len(ck.Value) > maxDeviceCookieLen {
		t.Fatalf("device cookie value %q", ck.Value)
	}
	if got := d.Verify(deviceHeader(ck.Value)); got != id {
		t.Fatalf("Verify = %q, want %q", got, id)
	}
	// Renewal keeps the ID.
	if again, _ := issueDevice(t, d, id); again != id {
		t.Fatalf("renewal changed the ID: %q → %q", id, again)
	}
	// A cookie signed with a previous JWT secret still verifies; one from
	// another deployment does not.
	rotatedFrom := NewDeviceCookies(old, nil, 0, clock)
	_, oldCk := issueDevice(t, rotatedFrom, "")
	if d.Verify(deviceHeader(oldCk.Value)) == "" {
		t.Fatal("a device cookie of the previous secret was forgotten")
	}
	stranger := NewDeviceCookies([]byte("some-other-deployment-secret-xxxxxx"), nil, 0, clock)
	_, strangerCk := issueDevice(t, stranger, "")

	parts := strings.Split(ck.Value, ".")
	tampered := []struct{ name, value string }{
		{"another deployment's", strangerCk.Value},
		{"other ID, same MAC", parts[0] + "." + strings.Repeat("A", 22) + "." + parts[2] + "." + parts[3]},
		{"other time, same MAC", parts[0] + "." + parts[1] + "." + "1796111999" + "." + parts[3]},
		{"MAC cut short", ck.Value[:len(ck.Value)-2]},
		{"no MAC", parts[0] + "." + parts[1] + "." + parts[2]},
		{"version 2", "v2." + strings.Join(parts[1:], ".")},
		{"leading zero time", parts[0] + "." + parts[1] + ".0" + parts[2] + "." + parts[3]},
		{"empty", ""},
		{"garbage", "not-a-device"},
	}
	for _, tc := range tampered {
		if got := d.Verify(deviceHeader(tc.value)); got != "" {
			t.Errorf("%s cookie verified as %q", tc.name, got)
		}
	}
	if got := d.Verify(deviceHeader(ck.Value, ck.Value)); got != "" {
		t.Errorf("two device cookies verified as %q", got)
	}
	if got := d.Verify(http.Header{}); got != "" {
		t.Errorf("no cookie verified as %q", got)
	}
	// Too old, or issued in the future, is no claim.
	later := NewDeviceCookies([]byte("current-jwt-secret-current-jwt-secret"), nil, 0, func() time.Time { return now.Add(DefaultDeviceCookieAge + time.Hour) })
	if later.Verify(deviceHeader(ck.Value)) != "" {
		t.Error("an expired device cookie verified")
	}
	earlier := NewDeviceCookies([]byte("current-jwt-secret-current-jwt-secret"), nil, 0, func() time.Time { return now.Add(-time.Hour) })
	if earlier.Verify(deviceHeader(ck.Value)) != "" {
		t.Error("a device cookie from the future verified")
	}
	// No DeviceCookies: nothing issued, nothing verified.
	var none *DeviceCookies
	if none.Verify(deviceHeader(ck.Value)) != "" || none.Issue(nil, "x") != "" {
		t.Error("a nil DeviceCookies acted")
	}
}

// FuzzDeviceCookieVerify: any cookie header parses without panicking, and
// nothing but a value this key signed ever verifies.
func FuzzDeviceCookieVerify(f *testing.F) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d := NewDeviceCookies([]byte("fuzz-secret-fuzz-secret-fuzz-secret!"), nil, 0, func() time.Time { return now })
	rec := httptest.NewRecorder()
	// A fixed ID and clock: every fuzz worker must compute the same value.
	d.Issue(echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/", nil), rec), "ZnV6ei1kZXZpY2UtaWQtMQ")
	good, _ := http.ParseSetCookie(rec.Header().Get("Set-Cookie"))
	f.Add(DeviceCookieName + "=" + good.Value)
	f.Add(DeviceCookieName + "=v1.AAAAAAAAAAAAAAAAAAAAAA.1796112000.AAAA")
	f.Add(DeviceCookieName + "=v1....; " + DeviceCookieName + "=x")
	f.Add("a=b; " + DeviceCookieName + "=\"v1.x.1.y\"")
	f.Fuzz(func(t *testing.T, header string) {
		id := d.Verify(http.Header{"Cookie": {header}})
		if id != "" && !strings.Contains(header, good.Value) {
			t.Fatalf("forged device cookie %q verified as %q", header, id)
		}
	})
}
