package principal

// Client describes where a request came from, for sessions and the audit log.
// IP is the client address after trusted-proxy resolution.
type Client struct {
	IP        string
	UserAgent string
	RequestID string
}
