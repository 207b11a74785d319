package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// signalChildEnv makes the test binary, run again, act as an interrupted
// load generator (see TestMain).
const signalChildEnv = "M9M_LOAD_SIGNAL_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(signalChildEnv); dir != "" {
		os.Exit(runInterruptible(context.Background(), func(ctx context.Context) int {
			if err := os.WriteFile(filepath.Join(dir, "started"), nil, 0o600); err != nil {
				return 2
			}
			<-ctx.Done() // as wrk runs until its context ends
			_ = os.WriteFile(filepath.Join(dir, "cleaned"), nil, 0o600)
			return 1
		}))
	}
	os.Exit(m.Run())
}

func TestRunInterruptibleCleansUpThenDiesOfTheSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$") //nolint:gosec,noctx // this test binary
		cmd.Env = append(os.Environ(), signalChildEnv+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := filepath.Join(dir, "started")
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(started); err == nil {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatal("the child did not start")
			}
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%v: the child exited with %v", sig, err)
		}
		ws, ok := exit.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != sig {
			t.Errorf("%v: the child ended with %v, want killed by %v", sig, err, sig)
		}
		if _, err := os.Stat(filepath.Join(dir, "cleaned")); err != nil {
			t.Errorf("%v: fn did not see its context end before the process died: %v", sig, err)
		}
	}
}

func TestRunInterruptibleReturnsTheCodeWithoutASignal(t *testing.T) {
	if got := runInterruptible(context.Background(), func(context.Context) int { return 7 }); got != 7 {
		t.Errorf("code = %d, want 7", got)
	}
}
