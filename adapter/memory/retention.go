package memory

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// The retention ports of the in-process stores: the same rules as the SQL
// stores' DELETE statements, held to the same contract suite.

var (
	_ port.SessionPurger   = (*SessionStore)(nil)
	_ port.APIKeyPurger    = (*APIKeyStore)(nil)
	_ port.AuditPurger     = (*AuditStore)(nil)
	_ port.ExecutionPurger = (*ExecutionStore)(nil)
	_ port.JanitorLock     = (*JanitorLock)(nil)
)

// checkLimit refuses a cancelled context and a batch size below 1, as the
// SQL stores do.
func checkLimit(ctx context.Context, limit int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if limit < 1 {
		return domain.InvalidField("limit", "must be at least 1")
	}
	return nil
}

// purgeMap deletes from m up to limit entries for which old is true,
// calling gone on each, and returns how many it deleted.
func purgeMap[K comparable, V any](m map[K]V, limit int, old func(V) bool, gone func(V)) int {
	n := 0
	for k, v := range m {
		if n == limit {
			break
		}
		if old(v) {
			delete(m, k)
			gone(v)
			n++
		}
	}
	return n
}

// purgeSlice removes from list up to *budget elements for which old is
// true, calling gone on each and lowering *budget, and returns what is left.
func purgeSlice[T any](list []T, budget *int, old func(T) bool, gone func(T)) []T {
	kept := list[:0]
	for _, v := range list {
		if *budget > 0 && old(v) {
			gone(v)
			*budget--
			continue
		}
		kept = append(kept, v)
	}
	clear(list[len(kept):])
	return kept
}

// PurgeSessions deletes up to limit sessions ended before endedBefore or,
// never ended, last refreshed before idleBefore.
func (s *SessionStore) PurgeSessions(ctx context.Context, endedBefore, idleBefore time.Time, limit int) (int, error) {
	if err := checkLimit(ctx, limit); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return purgeMap(s.sessions, limit, func(x session.Session) bool {
		return (x.EndedAt != nil && x.EndedAt.Before(endedBefore)) || (x.EndedAt == nil && x.LastRefreshedAt.Before(idleBefore))
	}, func(session.Session) {}), nil
}

// PurgeAPIKeys deletes up to limit keys that stopped working before before.
func (s *APIKeyStore) PurgeAPIKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := checkLimit(ctx, limit); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return purgeMap(s.keys, limit, func(k apikey.Key) bool { return k.StoppedBefore(before) },
		func(k apikey.Key) { delete(s.digest, k.Digest) }), nil
}

// PurgeAuditEvents deletes up to limit events that occurred before before.
func (s *AuditStore) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := checkLimit(ctx, limit); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	budget := limit
	s.events = purgeSlice(s.events, &budget, func(e audit.Event) bool { return e.Time.Before(before) },
		func(e audit.Event) { delete(s.ids, e.ID) })
	return limit - budget, nil
}

// PurgeExecutions deletes up to limit deliveries received before before.
func (x *ExecutionStore) PurgeExecutions(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := checkLimit(ctx, limit); err != nil {
		return 0, err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	budget := limit
	for wf, list := range x.s.executions {
		x.s.executions[wf] = purgeSlice(list, &budget, func(e workflow.Execution) bool { return e.ReceivedAt.Before(before) },
			func(e workflow.Execution) { delete(x.s.execIDs, e.ID) })
	}
	return limit - budget, nil
}

// JanitorLock is the embedded mode's port.JanitorLock: one process owns its
// data, so excluding a second pass within the process is enough. Every
// janitor of the process must share one JanitorLock.
type JanitorLock struct {
	mu sync.Mutex
}

// NewJanitorLock returns an unheld lock.
func NewJanitorLock() *JanitorLock { return &JanitorLock{} }

// TryAcquire takes the lock unless a pass of this process holds it.
func (l *JanitorLock) TryAcquire(ctx context.Context) (func(), bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if !l.mu.TryLock() {
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(l.mu.Unlock) }, true, nil
}
