package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// keyBurst creates n API keys as fast as conns connections can (the
// embedded mode's single writer under contention), and reports latency
// percentiles and every non-201 answer by status: a 5xx here would be a
// write contention (SQLITE_BUSY, a serialization failure) reaching a client.
func keyBurst(ctx context.Context, token string, n, conns int) {
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	statuses := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				err := call(ctx, http.MethodPost, "/api/v1/api-keys", token,
					map[string]any{"name": "burst-" + strconv.FormatInt(time.Now().UnixNano(), 36)}, nil)
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if err != nil {
					msg := err.Error()
					if i := strings.Index(msg, "status "); i >= 0 {
						msg = msg[i:]
					}
					statuses[msg]++
				} else {
					statuses["201"]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	total := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fiveXX := 0
	for k, v := range statuses {
		if strings.HasPrefix(k, "status 5") {
			fiveXX += v
		}
	}
	fmt.Printf("\n== burst: %d API key creations over %d connections in %s (%.0f/s)\n", n, conns, total.Round(time.Millisecond), float64(n)/total.Seconds())
	fmt.Printf("   p50 %s  p99 %s  max %s\n", fmtDur(pct(0.50)), fmtDur(pct(0.99)), fmtDur(pct(1)))
	fmt.Printf("   answers: %v\n", statuses)
	fmt.Printf("   5xx (write contention reaching a client): %d (goal 0)\n", fiveXX)
}
