package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// KnownClientSource is the Postgres port.KnownClientSource: the sessions
// joined to their users, read in keyset pages over (created_at, id), which
// sessions_created_at_idx serves (migration 00010).
type KnownClientSource struct {
	db *sqlx.DB
}

var _ port.KnownClientSource = (*KnownClientSource)(nil)

// NewKnownClientSource returns a source over db.
func NewKnownClientSource(db *sqlx.DB) *KnownClientSource {
	return &KnownClientSource{db: db}
}

// selectSessionClients reads one page: sessions created after $1 and after
// the last one read ($2, $3), oldest first.
const selectSessionClients = `
	SELECT s.id, s.created_at, s.ip, u.username
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.created_at > $1 AND (s.created_at, s.id) > ($2, $3)
	ORDER BY s.created_at, s.id
	LIMIT $4`

type sessionClientRow struct {
	ID        string    `db:"id"`
	CreatedAt time.Time `db:"created_at"`
	IP        string    `db:"ip"`
	Username  string    `db:"username"`
}

// SessionClients reads the clients of the sessions created after since, one
// query per page.
func (s *KnownClientSource) SessionClients(ctx context.Context, since time.Time, pageSize int, fn func([]port.SessionClient) error) error {
	if pageSize < 1 {
		return domain.InvalidField("pageSize", "must be at least 1")
	}
	since = since.UTC()
	afterAt, afterID := since, ""
	page := make([]port.SessionClient, 0, pageSize)
	for {
		var rows []sessionClientRow
		if err := s.db.SelectContext(ctx, &rows, selectSessionClients, since, afterAt, afterID, pageSize); err != nil {
			return translate(err)
		}
		if len(rows) == 0 {
			return nil
		}
		page = page[:0]
		for _, r := range rows {
			page = append(page, port.SessionClient{Username: r.Username, IP: r.IP, CreatedAt: r.CreatedAt.UTC()})
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(rows) < pageSize {
			return nil
		}
		last := rows[len(rows)-1]
		afterAt, afterID = last.CreatedAt, last.ID
	}
}
