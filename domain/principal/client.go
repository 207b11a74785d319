package principal

import (
	"net/netip"

	"github.com/m9m/auth/domain"
)

// Bounds on the request origin kept with sessions and audit events.
const (
	MaxIPLen        = 64
	MaxUserAgentLen = 512
)

// Client describes where a request came from, for sessions and the audit log.
// IP is the client address after trusted-proxy resolution.
type Client struct {
	IP        string
	UserAgent string
	RequestID string
	// Device is an identity the client proved it had before (the console's
	// device cookie), or "" for none. The login throttle lets a known device
	// through to an account that is under attack, like a known network.
	Device string
}

// Storable returns c with its text made storable by domain.CleanText (valid
// UTF-8, no NUL, cut on a rune boundary to its bound), so that a hostile
// User-Agent can never fail a session or audit insert. Every recorder of a
// Client goes through it.
func (c Client) Storable() Client {
	c.IP = domain.CleanText(c.IP, MaxIPLen)
	c.UserAgent = domain.CleanText(c.UserAgent, MaxUserAgentLen)
	c.RequestID = domain.CleanText(c.RequestID, MaxIPLen)
	c.Device = domain.CleanText(c.Device, MaxUserAgentLen)
	return c
}

// ClientNetwork returns the network that one client controls, the unit that
// the login throttle and the rate limiter count per: an IPv4 address as it
// is, an IPv6 address as its /64 (a single host is usually given a whole
// /64, so counting per address would give it 2^64 fresh budgets). The
// address is written one way only (IPv4-mapped IPv6 as IPv4, no zone).
// What does not parse as an address is returned unchanged.
func ClientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
