package redis

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/time/rate"
)

// TestClientLogThroughZap: go-redis's lines become warn entries of the JSON
// log, a burst at most, then counted as suppressed.
func TestClientLogThroughZap(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	l := &zapRedisLogger{limit: rate.NewLimiter(rate.Every(logEvery), logBurst)}
	l.Printf(context.Background(), "dropped before a logger is set")
	l.log.Store(zap.New(core).Named("redis"))
	for i := range 50 {
		l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s", i, "connection refused")
	}
	entries := logs.All()
	if len(entries) != logBurst {
		t.Fatalf("%d entries for 50 lines, want the burst of %d", len(entries), logBurst)
	}
	for _, e := range entries {
		if e.Level != zapcore.WarnLevel || e.LoggerName != "redis" || e.Message != "redis client" {
			t.Errorf("entry %+v, want warn \"redis client\" from logger redis", e.Entry)
		}
	}
	if got := entries[0].ContextMap()["detail"]; got != "redis: connection pool: failed to dial after 0 attempts: connection refused" {
		t.Errorf("detail = %q", got)
	}
	if l.suppressed.Load() != 50-logBurst {
		t.Errorf("suppressed = %d, want %d", l.suppressed.Load(), 50-logBurst)
	}
	// Once the limiter allows again, the next line says how many were lost.
	l.limit.SetBurst(logBurst + 1)
	l.limit.SetLimit(rate.Inf)
	l.Printf(context.Background(), "back")
	last := logs.All()[len(logs.All())-1]
	if last.ContextMap()["suppressed"] != int64(50-logBurst) {
		t.Errorf("suppressed field = %v, want %d", last.ContextMap()["suppressed"], 50-logBurst)
	}
}
