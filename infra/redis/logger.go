package redis

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// go-redis writes its own plain-text lines ("redis: 2026/12/01 ... pool.go:
// ... connection refused") to stderr, which would break a JSON log during
// an outage, when they come by the hundred. They are routed through zap
// instead: at warn, as "redis client" with the text in "detail", at most a
// burst of logBurst then one per logEvery, each line saying how many were
// suppressed since the previous one.
const (
	logEvery = 10 * time.Second
	logBurst = 5
)

// clientLog is the logger go-redis writes to; go-redis's logger is process
// wide, so it is installed once and forwards to the latest client's logger.
var (
	clientLogOnce sync.Once
	clientLog     = &zapRedisLogger{limit: rate.NewLimiter(rate.Every(logEvery), logBurst)}
)

// routeClientLog makes go-redis log through log from now on.
func routeClientLog(log *zap.Logger) {
	clientLog.log.Store(log.Named("redis"))
	clientLogOnce.Do(func() { goredis.SetLogger(clientLog) })
}

// zapRedisLogger implements go-redis's logging interface on zap.
type zapRedisLogger struct {
	log        atomic.Pointer[zap.Logger]
	limit      *rate.Limiter
	suppressed atomic.Int64
}

// Printf logs one go-redis line at warn, unless over the rate limit.
func (l *zapRedisLogger) Printf(_ context.Context, format string, v ...any) {
	log := l.log.Load()
	if log == nil {
		return
	}
	if !l.limit.Allow() {
		l.suppressed.Add(1)
		return
	}
	log.Warn("redis client", zap.String("detail", fmt.Sprintf(format, v...)), zap.Int64("suppressed", l.suppressed.Swap(0)))
}
