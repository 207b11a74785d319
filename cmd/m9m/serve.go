package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/m9m/auth/cmd/m9m/app"
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
			fxApp := app.New(cfg)
			startCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := fxApp.Start(startCtx); err != nil {
				return fmt.Errorf("start: %w", err)
			}
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			<-sig
			// Drain: the HTTP server's own shutdown_timeout bounds the wait;
			// this outer bound only guards against a stuck component.
			stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout+10*time.Second)
			defer cancelStop()
			if err := fxApp.Stop(stopCtx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		},
	}
}
