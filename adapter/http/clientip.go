package httpapi

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain/principal"
)

// clientIPExtractor decides which address is the client's. Forwarding
// headers are believed only when the direct peer is one of the trusted
// proxies: X-Forwarded-For first (walked from the right, skipping trusted
// hops, so a client cannot choose its own address by prepending entries),
// else X-Real-IP. From any other peer the socket address (without its port)
// is the client, whatever the headers say. Loopback, link-local and private
// networks are not trusted implicitly: only what server.trusted_proxies lists.
func clientIPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	direct := echo.ExtractIPDirect()
	if len(trusted) == 0 {
		// No proxy is trusted: the headers never matter.
		return func(r *http.Request) string { return canonicalIP(direct(r)) }
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	xff := echo.ExtractIPFromXFFHeader(opts...)
	realIP := echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		switch {
		case len(r.Header[hdrXFF]) > 0:
			return canonicalIP(xff(r))
		case len(r.Header[hdrXRealIP]) > 0:
			return canonicalIP(realIP(r))
		default:
			// What realIP answers without the header, minus its
			// canonicalizing Header.Get.
			return canonicalIP(direct(r))
		}
	}
}

// canonicalIP writes an address one way only (IPv4-mapped IPv6 as IPv4, no
// zone), so one client cannot get several rate budgets by spelling its
// address differently. An address already written that way is returned as
// is, without allocating.
func canonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	var buf [64]byte // longer than any textual IPv6 address without a zone
	b := a.Unmap().WithZone("").AppendTo(buf[:0])
	if string(b) == s {
		return s
	}
	return string(b)
}

// ipRateKey is the rate budget of an unauthenticated caller: its client
// network (principal.ClientNetwork, an IPv6 client's /64), the same unit the
// login throttle counts per.
func ipRateKey(ip string) string {
	return "ip:" + principal.ClientNetwork(ip)
}
