package httpapi

// Metrics receives the HTTP edge's counters. The Prometheus adapter
// implements it; NopMetrics is used when metrics are off.
type Metrics interface {
	AuthAttempt(method, outcome string)
	RateLimited(route string)
	RateLimitError()
	ObserveRequest(method, route string, status int, seconds float64)
}

// NopMetrics discards everything.
type NopMetrics struct{}

// AuthAttempt does nothing.
func (NopMetrics) AuthAttempt(string, string) {}

// RateLimited does nothing.
func (NopMetrics) RateLimited(string) {}

// RateLimitError does nothing.
func (NopMetrics) RateLimitError() {}

// ObserveRequest does nothing.
func (NopMetrics) ObserveRequest(string, string, int, float64) {}
