package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// SessionStore is the SQLite port.SessionStore and port.SessionEnder.
type SessionStore struct{ db *DB }

var (
	_ port.SessionStore = (*SessionStore)(nil)
	_ port.SessionEnder = (*SessionStore)(nil)
)

// NewSessionStore returns a store over db.
func NewSessionStore(db *DB) *SessionStore { return &SessionStore{db: db} }

const sessionCols = `id, user_id, created_at, last_refreshed_at, ip, user_agent, ended_at`

type sessionRec struct {
	ID        string        `db:"id"`
	UserID    string        `db:"user_id"`
	Created   int64         `db:"created_at"`
	Refreshed int64         `db:"last_refreshed_at"`
	IP        string        `db:"ip"`
	UserAgent string        `db:"user_agent"`
	Ended     sql.NullInt64 `db:"ended_at"`
}

func (r sessionRec) session() session.Session {
	return session.Session{
		ID: r.ID, UserID: r.UserID, CreatedAt: fromMicros(r.Created), LastRefreshedAt: fromMicros(r.Refreshed),
		IP: r.IP, UserAgent: r.UserAgent, EndedAt: fromNullMicros(r.Ended),
	}
}

// Create inserts s; an unknown user violates the foreign key (ErrConflict).
func (st *SessionStore) Create(ctx context.Context, s session.Session, events ...audit.Event) error {
	return writeRow(ctx, st.db, events, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, micros(s.CreatedAt), micros(s.LastRefreshedAt), s.IP, s.UserAgent, nullMicros(s.EndedAt))
}

// Get returns the session with id, ended or not.
func (st *SessionStore) Get(ctx context.Context, id string) (*session.Session, error) {
	var r sessionRec
	if err := st.db.R.GetContext(ctx, &r, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id); err != nil {
		return nil, translate(err)
	}
	s := r.session()
	return &s, nil
}

// ListActive returns the user's sessions that have not ended, newest first.
func (st *SessionStore) ListActive(ctx context.Context, userID string) ([]session.Session, error) {
	var rows []sessionRec
	if err := st.db.R.SelectContext(ctx, &rows, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = ? AND ended_at IS NULL ORDER BY created_at DESC, id DESC`, userID); err != nil {
		return nil, translate(err)
	}
	out := make([]session.Session, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// Touch records a refresh of an active session.
func (st *SessionStore) Touch(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	return writeRow(ctx, st.db, events,
		`UPDATE sessions SET last_refreshed_at = ? WHERE id = ? AND ended_at IS NULL`, micros(at), id)
}

// End marks the session ended, keeping the first end time.
func (st *SessionStore) End(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	return writeRow(ctx, st.db, events,
		`UPDATE sessions SET ended_at = coalesce(ended_at, ?) WHERE id = ?`, micros(at), id)
}

// EndAllForUser ends every active session of userID but exceptID in one
// statement and returns the IDs it ended, sorted.
func (st *SessionStore) EndAllForUser(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	ids := []string{}
	if err := st.db.W.SelectContext(ctx, &ids, `UPDATE sessions SET ended_at = ?
		WHERE user_id = ? AND ended_at IS NULL AND id <> ? RETURNING id`, micros(at), userID, exceptID); err != nil {
		return nil, translate(err)
	}
	slices.Sort(ids)
	return ids, nil
}

// oneRow turns the result of a single-row statement into nil, or
// domain.ErrNotFound when no row matched.
func oneRow(res sql.Result, err error) error {
	n, err := affected(res, err)
	if err == nil && n == 0 {
		return domain.ErrNotFound
	}
	return err
}

// affected returns how many rows a statement changed, errors translated.
func affected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}
