package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

// edgeLimiter is a port.RateLimiter that records the keys it is asked about
// and allows everything.
type edgeLimiter struct {
	mu   sync.Mutex
	keys []string
}

func (l *edgeLimiter) Allow(_ context.Context, key string) (port.RateDecision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	return port.RateDecision{Allowed: true, Limit: 60, Remaining: 9, ResetAfter: time.Second}, nil
}

func (l *edgeLimiter) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.keys...)
}

func edgeCIDRs(t testing.TB, cidrs ...string) []*net.IPNet {
	t.Helper()
	var out []*net.IPNet
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// edgeServer has one protected route (basic user "u"/"p" may read it).
func edgeServer(t *testing.T, st Settings, lim port.RateLimiter) http.Handler {
	t.Helper()
	chain := &authn.Chain{Basic: authn.AuthenticatorFunc(func(_ context.Context, c authn.Credential, _ principal.Client) (principal.Principal, error) {
		if c.Username != "u" || c.Password != "p" {
			return principal.Principal{}, domain.ErrUnauthenticated
		}
		return principal.Principal{
			UserID: "u1", Username: "u", Role: user.RoleViewer, Method: principal.MethodBasic,
			Permissions: []user.Permission{user.PermWorkflowsRead},
		}, nil
	})}
	routes := Routes{{
		Method: http.MethodGet, Path: "/api/v1/things", Permission: user.PermWorkflowsRead,
		Handler: func(c echo.Context) error {
			return c.JSON(http.StatusOK, map[string]string{"ip": ClientOf(c).IP})
		},
	}}
	srv, err := Build(st, zap.NewNop(), chain, lim, nil, nil, routes)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}

func edgeDo(h http.Handler, method, path, remote string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = remote
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestClientIPExtractor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		trusted []string
		remote  string
		hdr     map[string]string
		want    string
	}{
		{"no headers", nil, "192.0.2.1:5555", nil, "192.0.2.1"},
		{"spoofed XFF from an untrusted peer", nil, "192.0.2.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "192.0.2.1"},
		{"spoofed X-Real-IP from an untrusted peer", nil, "192.0.2.1:5555", map[string]string{"X-Real-IP": "203.0.113.7"}, "192.0.2.1"},
		{"loopback is not trusted implicitly", nil, "127.0.0.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "127.0.0.1"},
		{"private peers are not trusted implicitly", nil, "10.0.0.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "10.0.0.1"},
		{"peer outside the trusted range", []string{"10.0.0.0/8"}, "192.0.2.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "192.0.2.1"},
		{"XFF from a trusted proxy", []string{"10.0.0.0/8"}, "10.0.0.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		{"client-prepended XFF entries are ignored", []string{"10.0.0.0/8"}, "10.0.0.1:5555", map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
		{"two trusted hops", []string{"10.0.0.0/8"}, "10.0.0.1:5555", map[string]string{"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"garbage XFF from a trusted proxy", []string{"10.0.0.0/8"}, "10.0.0.1:5555", map[string]string{"X-Forwarded-For": "not-an-ip"}, "10.0.0.1"},
		{"X-Real-IP from a trusted proxy", []string{"10.0.0.1/32"}, "10.0.0.1:5555", map[string]string{"X-Real-IP": "203.0.113.9"}, "203.0.113.9"},
		{"XFF wins over X-Real-IP", []string{"10.0.0.1/32"}, "10.0.0.1:5555", map[string]string{"X-Real-IP": "203.0.113.9", "X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		{"garbage X-Real-IP", []string{"10.0.0.1/32"}, "10.0.0.1:5555", map[string]string{"X-Real-IP": "nope"}, "10.0.0.1"},
		{"IPv6 peer", nil, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv4-mapped peer is written as IPv4", nil, "[::ffff:192.0.2.1]:443", nil, "192.0.2.1"},
		{"IPv6 XFF from a trusted IPv6 proxy", []string{"2001:db8:ffff::/48"}, "[2001:db8:ffff::1]:443", map[string]string{"X-Forwarded-For": "2001:db8:1::5"}, "2001:db8:1::5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ext := clientIPExtractor(edgeCIDRs(t, tc.trusted...))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tc.remote
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			if got := ext(req); got != tc.want {
				t.Errorf("client IP %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIPRateKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"192.0.2.1":                 "ip:192.0.2.1",
		"2001:db8:1:2:aaaa::1":      "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff::9": "ip:2001:db8:1:2::/64",
		"2001:db8:1:3::1":           "ip:2001:db8:1:3::/64",
		"":                          "ip:",
	}
	for ip, want := range tests {
		if got := ipRateKey(ip); got != want {
			t.Errorf("ipRateKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

// A spoofed X-Forwarded-For from an untrusted peer must not buy a fresh
// budget: both requests are charged to the socket address.
func TestSpoofedForwardingHeadersDoNotChangeTheRateKey(t *testing.T) {
	t.Parallel()
	lim := &edgeLimiter{}
	h := edgeServer(t, Settings{}, lim)
	for _, hdr := range []map[string]string{
		{"X-Forwarded-For": "198.51.100.1"},
		{"X-Forwarded-For": "198.51.100.2"},
		{"X-Real-IP": "198.51.100.3"},
	} {
		rec := edgeDo(h, http.MethodGet, "/api/v1/things", "192.0.2.1:4000", hdr)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if got, want := lim.seen(), []string{"ip:192.0.2.1", "ip:192.0.2.1", "ip:192.0.2.1"}; !slices.Equal(got, want) {
		t.Errorf("rate keys %v, want %v", got, want)
	}

	// Behind a trusted proxy, each client has its own budget.
	lim = &edgeLimiter{}
	h = edgeServer(t, Settings{TrustedProxies: edgeCIDRs(t, "192.0.2.0/24")}, lim)
	edgeDo(h, http.MethodGet, "/api/v1/things", "192.0.2.1:4000", map[string]string{"X-Forwarded-For": "198.51.100.1"})
	edgeDo(h, http.MethodGet, "/api/v1/things", "192.0.2.1:4000", map[string]string{"X-Forwarded-For": "198.51.100.2"})
	if got, want := lim.seen(), []string{"ip:198.51.100.1", "ip:198.51.100.2"}; !slices.Equal(got, want) {
		t.Errorf("rate keys behind a trusted proxy %v, want %v", got, want)
	}
}

func TestClientOfUsesTheTrustedClientIP(t *testing.T) {
	t.Parallel()
	h := edgeServer(t, Settings{TrustedProxies: edgeCIDRs(t, "192.0.2.1/32")}, nil)
	basic := map[string]string{"Authorization": "Basic dTpw"} // u:p
	for _, tc := range []struct{ remote, xff, want string }{
		{"192.0.2.1:4000", "198.51.100.1", "198.51.100.1"},
		{"192.0.2.2:4000", "198.51.100.1", "192.0.2.2"},
	} {
		hdr := map[string]string{"X-Forwarded-For": tc.xff}
		for k, v := range basic {
			hdr[k] = v
		}
		rec := edgeDo(h, http.MethodGet, "/api/v1/things", tc.remote, hdr)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ip":"`+tc.want+`"`) {
			t.Errorf("peer %s: %d %s, want ip %s", tc.remote, rec.Code, rec.Body, tc.want)
		}
	}
}

func FuzzClientIPExtractor(f *testing.F) {
	f.Add("192.0.2.1:5555", "203.0.113.7", "")
	f.Add("10.0.0.1:5555", "198.51.100.1, 203.0.113.7", "")
	f.Add("10.0.0.1:5555", "", "203.0.113.9")
	f.Add("[::ffff:10.0.0.1]:1", "[2001:db8::1], ,,", "[::1]")
	f.Add("garbage", "\x00", "%")
	trusted := edgeCIDRs(f, "10.0.0.0/8")
	untrustedOnly := clientIPExtractor(nil)
	withProxy := clientIPExtractor(trusted)
	f.Fuzz(func(t *testing.T, remote, xff, realIP string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = remote
		req.Header.Set("X-Forwarded-For", xff)
		req.Header.Set("X-Real-IP", realIP)
		direct := canonicalIP(echo.ExtractIPDirect()(req))
		// With no trusted proxy, the headers never matter.
		if got := untrustedOnly(req); got != direct {
			t.Fatalf("untrusted: got %q, want the peer %q", got, direct)
		}
		got := withProxy(req)
		peer, err := netip.ParseAddr(direct)
		if err != nil || !trusted[0].Contains(net.IP(peer.AsSlice())) {
			if got != direct {
				t.Fatalf("peer %q outside the trusted range: got %q", direct, got)
			}
			return
		}
		if got != direct {
			if _, err := netip.ParseAddr(got); err != nil {
				t.Fatalf("trusted peer: %q is not an IP address", got)
			}
		}
		_ = ipRateKey(got)
	})
}

// canonicalIP's no-allocation path answers exactly what netip's String does.
func FuzzCanonicalIP(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "2001:DB8::1", "fe80::1%eth0", "::", "0.0.0.0", "garbage", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := s
		if a, err := netip.ParseAddr(s); err == nil {
			want = a.Unmap().WithZone("").String()
		}
		if got := canonicalIP(s); got != want {
			t.Fatalf("canonicalIP(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestCanonicalIPDoesNotAllocateForCanonicalInput(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1"} {
		if n := testing.AllocsPerRun(100, func() { _ = canonicalIP(s) }); n != 0 {
			t.Errorf("canonicalIP(%q): %v allocations", s, n)
		}
	}
	if got := canonicalIP("::ffff:192.0.2.1"); got != "192.0.2.1" {
		t.Errorf("mapped address kept as %q", got)
	}
}
