package memory

import (
	"context"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
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

// checkLimit refuses a batch size below 1, as the SQL stores do.
func checkLimit(limit int) error {
	if limit < 1 {
		return domain.InvalidField("limit", "must be at least 1")
	}
	return nil
}

// PurgeSessions deletes up to limit sessions ended before endedBefore or,
// never ended, last refreshed before idleBefore.
func (s *SessionStore) PurgeSessions(ctx context.Context, endedBefore, idleBefore time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkLimit(limit); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, x := range s.sessions {
		if n == limit {
			break
		}
		if (x.EndedAt != nil && x.EndedAt.Before(endedBefore)) || (x.EndedAt == nil && x.LastRefreshedAt.Before(idleBefore)) {
			delete(s.sessions, id)
			n++
		}
	}
	return n, nil
}

// PurgeAPIKeys deletes up to limit keys that stopped working before before.
func (s *APIKeyStore) PurgeAPIKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkLimit(limit); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, k := range s.keys {
		if n == limit {
			break
		}
		if k.StoppedBefore(before) {
			delete(s.keys, id)
			delete(s.digest, k.Digest)
			n++
		}
	}
	return n, nil
}

// PurgeAuditEvents deletes up to limit events that occurred before before.
func (s *AuditStore) PurgeAuditEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkLimit(limit); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.events[:0]
	n := 0
	for _, e := range s.events {
		if n < limit && e.Time.Before(before) {
			delete(s.ids, e.ID)
			n++
			continue
		}
		kept = append(kept, e)
	}
	clear(s.events[len(kept):])
	s.events = kept
	return n, nil
}

// PurgeExecutions deletes up to limit deliveries received before before.
func (x *ExecutionStore) PurgeExecutions(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkLimit(limit); err != nil {
		return 0, err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	n := 0
	for wf, list := range x.s.executions {
		kept := list[:0]
		for _, e := range list {
			if n < limit && e.ReceivedAt.Before(before) {
				delete(x.s.execIDs, e.ID)
				n++
				continue
			}
			kept = append(kept, e)
		}
		clear(list[len(kept):])
		x.s.executions[wf] = kept
	}
	return n, nil
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
