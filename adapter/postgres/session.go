package postgres

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// SessionStore is the Postgres port.SessionStore and port.SessionEnder.
type SessionStore struct {
	db *sqlx.DB
	// stmts holds the insert of every login, prepared once.
	stmts stmtCache
}

var (
	_ port.SessionStore = (*SessionStore)(nil)
	_ port.SessionEnder = (*SessionStore)(nil)
)

// NewSessionStore returns a store over db.
func NewSessionStore(db *sqlx.DB) *SessionStore {
	return &SessionStore{db: db}
}

// sessionColumns is the explicit column list every query selects.
const sessionColumns = `id, user_id, created_at, last_refreshed_at, ip, user_agent, ended_at`

type sessionRow struct {
	ID              string       `db:"id"`
	UserID          string       `db:"user_id"`
	CreatedAt       time.Time    `db:"created_at"`
	LastRefreshedAt time.Time    `db:"last_refreshed_at"`
	IP              string       `db:"ip"`
	UserAgent       string       `db:"user_agent"`
	EndedAt         sql.NullTime `db:"ended_at"`
}

func toSessionRow(s session.Session) sessionRow {
	r := sessionRow{
		ID:              s.ID,
		UserID:          s.UserID,
		CreatedAt:       s.CreatedAt.UTC(),
		LastRefreshedAt: s.LastRefreshedAt.UTC(),
		IP:              s.IP,
		UserAgent:       s.UserAgent,
	}
	if s.EndedAt != nil {
		r.EndedAt = sql.NullTime{Time: s.EndedAt.UTC(), Valid: true}
	}
	return r
}

func (r sessionRow) toSession() session.Session {
	s := session.Session{
		ID:              r.ID,
		UserID:          r.UserID,
		CreatedAt:       r.CreatedAt.UTC(),
		LastRefreshedAt: r.LastRefreshedAt.UTC(),
		IP:              r.IP,
		UserAgent:       r.UserAgent,
	}
	if r.EndedAt.Valid {
		t := r.EndedAt.Time.UTC()
		s.EndedAt = &t
	}
	return s
}

var (
	insertSession = `INSERT INTO sessions (` + sessionColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	touchSession  = `UPDATE sessions SET last_refreshed_at = $2 WHERE id = $1 AND ended_at IS NULL`
	endSession    = `UPDATE sessions SET ended_at = COALESCE(ended_at, $2) WHERE id = $1`

	// Every login, refresh and logout writes its event with its row; as
	// one prepared statement each, that costs what the row alone did: one
	// round trip.
	insertSessionAudited = auditedStatement(insertSession, 7)
	touchSessionAudited  = auditedStatement(touchSession, 2)
	endSessionAudited    = auditedStatement(endSession, 2)
)

// Create inserts s, as a prepared statement (every login does). A session
// of an unknown user violates the foreign key and is domain.ErrConflict.
func (st *SessionStore) Create(ctx context.Context, s session.Session, events ...audit.Event) error {
	r := toSessionRow(s)
	_, err := st.write(ctx, insertSession, insertSessionAudited, events, r.ID, r.UserID, r.CreatedAt, r.LastRefreshedAt, r.IP, r.UserAgent, r.EndedAt)
	return err
}

// write runs the prepared single-row write query, or with events its
// audited form (auditedStatement), and returns the number of rows written.
func (st *SessionStore) write(ctx context.Context, query, withEvents string, events []audit.Event, args ...any) (int64, error) {
	if len(events) == 0 {
		stmt, err := st.stmts.get(ctx, st.db, query) //nolint:sqlclosecheck // shared prepared statement, not ours to close
		if err != nil {
			return 0, err
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, translate(err)
		}
		n, err := res.RowsAffected()
		return n, translate(err)
	}
	eventArgs, err := auditArgs(events)
	if err != nil {
		return 0, err
	}
	stmt, err := st.stmts.get(ctx, st.db, withEvents) //nolint:sqlclosecheck // shared prepared statement, not ours to close
	if err != nil {
		return 0, err
	}
	var n int64
	err = stmt.QueryRowxContext(ctx, append(args, eventArgs...)...).Scan(&n)
	return n, translate(err)
}

// Get returns the session with id, ended or not.
func (st *SessionStore) Get(ctx context.Context, id string) (*session.Session, error) {
	var r sessionRow
	if err := st.db.GetContext(ctx, &r, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id); err != nil {
		return nil, translate(err)
	}
	s := r.toSession()
	return &s, nil
}

// ListActive returns the user's sessions that have not ended, newest first;
// the partial index on (user_id) WHERE ended_at IS NULL serves it.
func (st *SessionStore) ListActive(ctx context.Context, userID string) ([]session.Session, error) {
	var rows []sessionRow
	err := st.db.SelectContext(ctx, &rows, `
		SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND ended_at IS NULL
		ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]session.Session, len(rows))
	for i, r := range rows {
		out[i] = r.toSession()
	}
	return out, nil
}

// Touch records a refresh of an active session.
func (st *SessionStore) Touch(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	return oneRow(st.write(ctx, touchSession, touchSessionAudited, events, id, at.UTC()))
}

// End marks the session ended, keeping the first end time: ending an ended
// session matches the row without changing it.
func (st *SessionStore) End(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	return oneRow(st.write(ctx, endSession, endSessionAudited, events, id, at.UTC()))
}

// oneRow turns the result of a single-row write into nil, or
// domain.ErrNotFound when no row matched.
func oneRow(n int64, err error) error {
	if err == nil && n == 0 {
		return domain.ErrNotFound
	}
	return err
}

// EndAllForUser ends every active session of userID but exceptID in one
// statement and returns the IDs it ended, sorted.
func (st *SessionStore) EndAllForUser(ctx context.Context, userID, exceptID string, at time.Time) ([]string, error) {
	ids := []string{}
	err := st.db.SelectContext(ctx, &ids, `
		UPDATE sessions SET ended_at = $3
		WHERE user_id = $1 AND ended_at IS NULL AND id <> $2
		RETURNING id`, userID, exceptID, at.UTC())
	if err != nil {
		return nil, translate(err)
	}
	slices.Sort(ids)
	return ids, nil
}
