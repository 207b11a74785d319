package testenv

import (
	"context"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// CommandCounter is a go-redis hook counting the round trips a client makes:
// each command, and each pipeline as one; not the handshake a new pooled
// connection runs (HELLO, CLIENT SETINFO, AUTH, SELECT) nor PING.
type CommandCounter struct{ n atomic.Int64 }

// Count returns the round trips counted so far.
func (h *CommandCounter) Count() int64 { return h.n.Load() }

// Reset sets the count to zero.
func (h *CommandCounter) Reset() { h.n.Store(0) }

// DialHook passes dials through.
func (h *CommandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

// ProcessHook counts a command.
func (h *CommandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		switch cmd.Name() {
		case "hello", "client", "auth", "select", "ping":
		default:
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts a pipeline as one round trip.
func (h *CommandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}
