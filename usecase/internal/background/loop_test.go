package background_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/usecase/internal/background"
)

func TestStopEndsTheRunsContextAndWaitsForIt(t *testing.T) {
	var l background.Loop
	if err := l.Stop(context.Background()); err != nil {
		t.Fatalf("Stop before Start = %v", err)
	}
	returned := make(chan struct{})
	l.Start(func(ctx context.Context) {
		<-ctx.Done()
		close(returned)
	})
	if err := l.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	default:
		t.Fatal("Stop returned before the run did")
	}
	if err := l.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
}

func TestStopGivesUpOnARunThatDoesNotReturn(t *testing.T) {
	var l background.Loop
	release := make(chan struct{})
	l.Start(func(context.Context) { <-release })
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop of a stuck run = %v, want the deadline", err)
	}
}
