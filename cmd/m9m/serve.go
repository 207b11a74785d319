package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
	"go.uber.org/zap"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
)

func newServeCmd(flags *rootFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (applies pending migrations unless database.auto_migrate is false)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load()
			if err != nil {
				return err
			}
			var log *zap.Logger
			var srv *httpapi.Server
			fxApp := app.New(cfg, fx.Populate(&log, &srv))
			startCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := fxApp.Start(startCtx); err != nil {
				return fmt.Errorf("start: %w", err)
			}
			defer func() { _ = log.Sync() }()
			if links := config.ServiceLinkVars(os.Environ()); len(links) > 0 {
				log.Debug("ignoring Kubernetes service-link variables (not config keys)", zap.Strings("names", links))
			}
			log.Info("m9m started",
				zap.String("version", versionString()),
				zap.String("mode", app.StorageMode(cfg)),
				zap.String("listen", srv.Addr()),
				zap.Bool("tls", cfg.Server.TLS.Enabled),
				zap.Strings("auth_methods", app.AuthMethods(cfg)))
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			got := <-sig
			log.Info("m9m stopping", zap.String("signal", got.String()))
			began := time.Now()
			// Drain: the HTTP server's own shutdown_timeout bounds the wait;
			// this outer bound only guards against a stuck component.
			stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout+10*time.Second)
			defer cancelStop()
			if err := fxApp.Stop(stopCtx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			log.Info("m9m stopped",
				zap.Int64("drained_requests", srv.Drained()),
				zap.Duration("took", time.Since(began)))
			return nil
		},
	}
}
