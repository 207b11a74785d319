package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// runInterruptible runs fn with a context that ends on SIGINT or SIGTERM
// (^C, timeout(1)), so fn stops wrk and removes its scripts; then, if a
// signal ended it, the process dies of that same signal. A shell waiting
// for a child that caught SIGINT and exited normally assumes the child
// dealt with it and carries on; dying of it lets `make bench` stop and
// clean up.
func runInterruptible(ctx context.Context, fn func(context.Context) int) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(ctx)
	caught := make(chan os.Signal, 1)
	go func() {
		select {
		case s := <-sigs:
			caught <- s
			cancel()
		case <-ctx.Done():
		}
	}()
	code := fn(ctx)
	cancel()
	signal.Stop(sigs)
	select {
	case s := <-caught:
		sig, ok := s.(syscall.Signal)
		if !ok {
			return 130
		}
		signal.Reset(sig)
		_ = syscall.Kill(os.Getpid(), sig)
		time.Sleep(time.Second) // the signal is delivered meanwhile
		return 128 + int(sig)
	default:
		return code
	}
}
