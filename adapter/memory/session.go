package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// SessionStore is an in-process port.SessionStore and port.SessionEnder. It
// does not check that a session's user exists (it knows no users); the
// Postgres store does, through a foreign key.
type SessionStore struct {
	auditedWrites

	mu       sync.Mutex
	sessions map[string]session.Session
}

var (
	_ port.SessionStore = (*SessionStore)(nil)
	_ port.SessionEnder = (*SessionStore)(nil)
)

// NewSessionStore returns an empty store.
func NewSessionStore() *SessionStore {
	return &SessionStore{sessions: make(map[string]session.Session)}
}

// cloneSession returns s with its own copy of EndedAt, so callers cannot
// change the stored session through the pointer.
func cloneSession(s session.Session) session.Session {
	if s.EndedAt != nil {
		t := *s.EndedAt
		s.EndedAt = &t
	}
	return s
}

// Create stores s.
func (s *SessionStore) Create(ctx context.Context, sess session.Session, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess.ID]; ok {
		return domain.ErrConflict
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	sess.CreatedAt = dbTime(sess.CreatedAt)
	sess.LastRefreshedAt = dbTime(sess.LastRefreshedAt)
	if sess.EndedAt != nil {
		t := dbTime(*sess.EndedAt)
		sess.EndedAt = &t
	}
	s.sessions[sess.ID] = sess
	return nil
}

// Get returns the session with id, ended or not.
func (s *SessionStore) Get(ctx context.Context, id string) (*session.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	c := cloneSession(sess)
	return &c, nil
}

// ListActive returns the user's sessions that have not ended, newest first.
func (s *SessionStore) ListActive(ctx context.Context, userID string) ([]session.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	out := []session.Session{}
	for _, sess := range s.sessions {
		if sess.UserID == userID && sess.Active() {
			out = append(out, cloneSession(sess))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b session.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return out, nil
}

// Touch records a refresh of an active session.
func (s *SessionStore) Touch(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || !sess.Active() {
		return domain.ErrNotFound
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	sess.LastRefreshedAt = dbTime(at)
	s.sessions[id] = sess
	return nil
}

// End marks the session ended, keeping the first end time.
func (s *SessionStore) End(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return domain.ErrNotFound
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	if sess.Active() {
		t := dbTime(at)
		sess.EndedAt = &t
		s.sessions[id] = sess
	}
	return nil
}

// EndAllForUser ends every active session of userID but exceptID.
func (s *SessionStore) EndAllForUser(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ended := []string{}
	for id, sess := range s.sessions {
		if sess.UserID != userID || id == exceptID || !sess.Active() {
			continue
		}
		t := dbTime(at)
		sess.EndedAt = &t
		s.sessions[id] = sess
		ended = append(ended, id)
	}
	slices.Sort(ended)
	return ended, nil
}
