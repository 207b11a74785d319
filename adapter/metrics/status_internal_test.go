package metrics

import "testing"

func TestStatusClass(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{
		0: "other", 99: "other", 100: "1xx", 199: "1xx", 200: "2xx", 204: "2xx", 302: "3xx",
		401: "4xx", 499: "4xx", 500: "5xx", 503: "5xx", 599: "5xx", 600: "other", -1: "other",
	} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
	}
}
