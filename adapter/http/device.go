package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// DeviceCookieName marks a browser that has logged in successfully
// (contract §4: the login throttle's protected mode lets a known device
// through to an account under attack). It holds no session and no user:
// only a random device ID, when it was issued, and a MAC, so it is worth
// nothing to a thief but a known-device claim the throttle checks against
// its per-account memory.
const DeviceCookieName = "__Host-m9m_device"

// DefaultDeviceCookieAge is how long a device cookie lives: long past the
// throttle's known_client_ttl (30 days by default), under Chromium's
// 400-day cap. Each successful console login renews it.
const DefaultDeviceCookieAge = 365 * 24 * time.Hour

const (
	deviceVersion = "v1"
	deviceIDBytes = 16
	// deviceKeyLabel separates the device-cookie key from the JWT secret
	// it is derived from: a MAC of one can never pass for the other.
	deviceKeyLabel = "m9m device cookie v1"
	// maxDeviceCookieLen refuses oversized values unread.
	maxDeviceCookieLen = 256
	// deviceClockSkew tolerates an issue time slightly in the future
	// (another instance's clock).
	deviceClockSkew = 5 * time.Minute
)

// DeviceCookies issues and verifies signed device cookies. The MAC key is
// derived from the JWT signing secret (no new secret to configure), and
// the previous JWT secrets still verify, so a secret rotation forgets no
// device.
type DeviceCookies struct {
	keys   [][]byte // keys[0] signs; all verify
	maxAge time.Duration
	now    func() time.Time
}

// NewDeviceCookies derives the keys from the current and previous JWT
// secrets. maxAge 0 means DefaultDeviceCookieAge; now nil means time.Now.
func NewDeviceCookies(current []byte, previous [][]byte, maxAge time.Duration, now func() time.Time) *DeviceCookies {
	if maxAge <= 0 {
		maxAge = DefaultDeviceCookieAge
	}
	if now == nil {
		now = time.Now
	}
	d := &DeviceCookies{maxAge: maxAge, now: now}
	for _, s := range append([][]byte{current}, previous...) {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(deviceKeyLabel))
		d.keys = append(d.keys, m.Sum(nil))
	}
	return d
}

// Verify returns the device ID of the request's device cookie, or "" when
// there is none or it is malformed, forged, expired or issued in the
// future. It never fails a request: an absent claim is just no claim.
func (d *DeviceCookies) Verify(h http.Header) string {
	if d == nil {
		return ""
	}
	var value string
	n := 0
	for _, line := range h.Values("Cookie") {
		if len(line) > maxCookieHeaderLen || !strings.Contains(line, DeviceCookieName) {
			continue
		}
		for _, c := range (&http.Request{Header: http.Header{"Cookie": {line}}}).Cookies() {
			if c.Name == DeviceCookieName {
				value = c.Value
				n++
			}
		}
	}
	if n != 1 {
		return "" // none, or ambiguous
	}
	return d.verify(value)
}

func (d *DeviceCookies) verify(value string) string {
	if len(value) > maxDeviceCookieLen {
		return ""
	}
	parts := strings.Split(value, ".")
	if len(parts) != 4 || parts[0] != deviceVersion {
		return ""
	}
	id, issuedText, macText := parts[1], parts[2], parts[3]
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != deviceIDBytes {
		return ""
	}
	issued, err := strconv.ParseInt(issuedText, 10, 64)
	if err != nil || issued <= 0 || strconv.FormatInt(issued, 10) != issuedText {
		return ""
	}
	mac, err := base64.RawURLEncoding.DecodeString(macText)
	if err != nil || len(mac) != sha256.Size {
		return ""
	}
	valid := false
	for _, k := range d.keys {
		if hmac.Equal(mac, deviceMAC(k, id, issuedText)) {
			valid = true
		}
	}
	if !valid {
		return ""
	}
	at := time.Unix(issued, 0)
	now := d.now()
	if at.After(now.Add(deviceClockSkew)) || now.Sub(at) > d.maxAge {
		return ""
	}
	return id
}

// NewID returns a fresh random device ID ("" without DeviceCookies).
func (d *DeviceCookies) NewID() string {
	if d == nil {
		return ""
	}
	b := make([]byte, deviceIDBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Issue sets a device cookie for id (a fresh ID when id is ""), issued now,
// and returns the ID. A browser that already proved a device keeps its ID,
// so the throttle's memory of it stays valid.
func (d *DeviceCookies) Issue(c echo.Context, id string) string {
	if d == nil {
		return ""
	}
	if id == "" {
		id = d.NewID()
	}
	issued := strconv.FormatInt(d.now().Unix(), 10)
	mac := base64.RawURLEncoding.EncodeToString(deviceMAC(d.keys[0], id, issued))
	c.SetCookie(&http.Cookie{
		Name:     DeviceCookieName,
		Value:    deviceVersion + "." + id + "." + issued + "." + mac,
		Path:     "/",
		MaxAge:   int(d.maxAge.Seconds()),
		Expires:  d.now().Add(d.maxAge).UTC(),
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	return id
}

func deviceMAC(key []byte, id, issued string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(deviceVersion + "." + id + "." + issued))
	return m.Sum(nil)
}
