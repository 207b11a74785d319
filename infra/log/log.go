// Package log builds the process logger (zap) and routes fx's own event log
// through it, so start-up and shutdown appear in the same stream.
package log

import (
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/m9m/auth/infra/config"
)

// New returns a zap logger for cfg (json or console, at cfg.Level).
func New(cfg config.LogConfig) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	var zc zap.Config
	if cfg.Format == "console" {
		zc = zap.NewDevelopmentConfig()
	} else {
		zc = zap.NewProductionConfig()
		zc.Sampling = nil
		zc.EncoderConfig.TimeKey = "time"
		zc.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.DisableStacktrace = true
	return zc.Build()
}

// Module provides *zap.Logger and makes fx log through it, its wiring
// events at debug level so start-up is not drowned in them. It is a plain
// fx.Options, not an fx.Module: a logger set inside a module would only
// apply to that module.
var Module = fx.Options(
	fx.Provide(New),
	fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
		zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
		zl.UseLogLevel(zapcore.DebugLevel)
		// A failed start is returned to the caller, which reports it once;
		// fx's own three error events about it would repeat it.
		zl.UseErrorLevel(zapcore.DebugLevel)
		return zl
	}),
)
