package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
)

// AuditStore is an in-process port.AuditStore: the fake behind the audit
// writer's and handler's tests, held to the same contract as Postgres.
type AuditStore struct {
	mu     sync.Mutex
	events []audit.Event
	ids    map[string]struct{}
}

var _ port.AuditStore = (*AuditStore)(nil)

// NewAuditStore returns an empty store.
func NewAuditStore() *AuditStore {
	return &AuditStore{ids: make(map[string]struct{})}
}

// Insert stores the batch, skipping IDs already stored.
func (s *AuditStore) Insert(ctx context.Context, events []audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		e = e.Sanitized()
		e.Time = dbTime(e.Time)
		if _, dup := s.ids[e.ID]; dup {
			continue
		}
		s.ids[e.ID] = struct{}{}
		s.events = append(s.events, e)
	}
	return nil
}

// List returns one page of matching events, newest first.
func (s *AuditStore) List(ctx context.Context, q audit.Query) (audit.Page, error) {
	if err := ctx.Err(); err != nil {
		return audit.Page{}, err
	}
	q, err := q.Normalized()
	if err != nil {
		return audit.Page{}, err
	}
	var after *audit.Position
	if q.Cursor != "" {
		p, err := audit.ParseCursor(q.Cursor)
		if err != nil {
			return audit.Page{}, err
		}
		after = &p
	}
	s.mu.Lock()
	var hits []audit.Event
	for _, e := range s.events {
		if auditMatches(e, q) && (after == nil || after.After(e.Time, e.ID)) {
			e.Metadata = maps.Clone(e.Metadata)
			hits = append(hits, e)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(hits, func(a, b audit.Event) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.ID, a.ID))
	})
	if len(hits) <= q.Limit {
		return audit.Page{Events: hits}, nil
	}
	hits = hits[:q.Limit]
	last := hits[len(hits)-1]
	return audit.Page{Events: hits, NextCursor: audit.EncodeCursor(audit.Position{Time: last.Time, ID: last.ID})}, nil
}

func auditMatches(e audit.Event, q audit.Query) bool {
	switch {
	case q.ActorID != "" && e.ActorID != q.ActorID,
		q.Action != "" && e.Action != q.Action,
		!q.From.IsZero() && e.Time.Before(q.From),
		!q.To.IsZero() && !e.Time.Before(q.To):
		return false
	}
	return true
}
