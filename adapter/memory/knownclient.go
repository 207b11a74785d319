package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// KnownClientSource is the in-process port.KnownClientSource over a
// SessionStore and the UserStore that names their users.
type KnownClientSource struct {
	sessions *SessionStore
	users    *UserStore
}

var _ port.KnownClientSource = (*KnownClientSource)(nil)

// NewKnownClientSource returns a source over sessions and users.
func NewKnownClientSource(sessions *SessionStore, users *UserStore) *KnownClientSource {
	return &KnownClientSource{sessions: sessions, users: users}
}

// SessionClients takes a snapshot of the matching sessions and hands it to
// fn page by page, outside the stores' locks.
func (k *KnownClientSource) SessionClients(ctx context.Context, since time.Time, pageSize int, fn func([]port.SessionClient) error) error {
	if pageSize < 1 {
		return domain.InvalidField("pageSize", "must be at least 1")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	type row struct {
		id string
		c  port.SessionClient
	}
	var rows []row
	k.sessions.mu.Lock()
	k.users.mu.Lock()
	for _, s := range k.sessions.sessions {
		u, ok := k.users.users[s.UserID]
		if ok && s.CreatedAt.After(since) {
			rows = append(rows, row{id: s.ID, c: port.SessionClient{Username: u.Username, IP: s.IP, CreatedAt: s.CreatedAt}})
		}
	}
	k.users.mu.Unlock()
	k.sessions.mu.Unlock()
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(a.c.CreatedAt.Compare(b.c.CreatedAt), cmp.Compare(a.id, b.id))
	})
	for len(rows) > 0 {
		n := min(pageSize, len(rows))
		page := make([]port.SessionClient, n)
		for i := range n {
			page[i] = rows[i].c
		}
		if err := fn(page); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
