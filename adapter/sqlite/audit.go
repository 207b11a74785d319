package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
)

// AuditStore is the SQLite port.AuditStore.
type AuditStore struct{ db *DB }

var _ port.AuditStore = (*AuditStore)(nil)

// NewAuditStore returns a store over db.
func NewAuditStore(db *DB) *AuditStore { return &AuditStore{db: db} }

const auditCols = `id, occurred_at, actor_id, actor_name, action, target_type, target_id, ip, user_agent, outcome, metadata`

// auditRow is one event as the insert's JSON batch carries it.
type auditRow struct {
	ID         string  `json:"id" db:"id"`
	At         int64   `json:"at" db:"occurred_at"`
	ActorID    *string `json:"actor,omitempty" db:"actor_id"`
	ActorName  string  `json:"actorName" db:"actor_name"`
	Action     string  `json:"action" db:"action"`
	TargetType string  `json:"targetType" db:"target_type"`
	TargetID   string  `json:"targetId" db:"target_id"`
	IP         string  `json:"ip" db:"ip"`
	UserAgent  string  `json:"ua" db:"user_agent"`
	Outcome    string  `json:"outcome" db:"outcome"`
	Metadata   *string `json:"meta,omitempty" db:"metadata"`
}

// auditInsert writes a whole batch in one statement whatever its size: the
// batch is one JSON parameter and json_each turns it back into rows (no
// parameter limit). ON CONFLICT makes a retried batch harmless; "WHERE
// true" is SQLite's way to put an upsert clause after INSERT ... SELECT.
const auditInsert = `INSERT INTO audit_events (` + auditCols + `)
	SELECT value ->> 'id', value ->> 'at', value ->> 'actor', value ->> 'actorName', value ->> 'action',
	       value ->> 'targetType', value ->> 'targetId', value ->> 'ip', value ->> 'ua', value ->> 'outcome',
	       value ->> 'meta'
	FROM json_each(?) WHERE true
	ON CONFLICT (id) DO NOTHING`

// Insert stores the batch in one statement.
func (s *AuditStore) Insert(ctx context.Context, events []audit.Event) error {
	return insertEvents(ctx, s.db.W, events)
}

// insertEvents stores events in one statement on q: the writer for the
// background batches, or the transaction of an audited write (see
// DB.audited), so a change and its events commit together.
func insertEvents(ctx context.Context, q sqlx.ExecerContext, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]auditRow, len(events))
	for i, e := range events {
		e = e.Sanitized()
		r := auditRow{
			ID: e.ID, At: micros(e.Time), ActorName: e.ActorName, Action: string(e.Action),
			TargetType: e.TargetType, TargetID: e.TargetID, IP: e.IP, UserAgent: e.UserAgent, Outcome: string(e.Outcome),
		}
		if e.ActorID != "" {
			r.ActorID = &e.ActorID
		}
		if len(e.Metadata) > 0 {
			b, err := json.Marshal(e.Metadata)
			if err != nil {
				return domain.Internal(err)
			}
			m := string(b)
			r.Metadata = &m
		}
		rows[i] = r
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return domain.Internal(err)
	}
	_, err = q.ExecContext(ctx, auditInsert, string(b))
	return translate(err)
}

type auditRec struct {
	ID         string         `db:"id"`
	At         int64          `db:"occurred_at"`
	ActorID    sql.NullString `db:"actor_id"`
	ActorName  string         `db:"actor_name"`
	Action     string         `db:"action"`
	TargetType string         `db:"target_type"`
	TargetID   string         `db:"target_id"`
	IP         string         `db:"ip"`
	UserAgent  string         `db:"user_agent"`
	Outcome    string         `db:"outcome"`
	Metadata   sql.NullString `db:"metadata"`
}

func (r auditRec) event() (audit.Event, error) {
	e := audit.Event{
		ID: r.ID, Time: fromMicros(r.At), ActorID: r.ActorID.String, ActorName: r.ActorName,
		Action: audit.Action(r.Action), TargetType: r.TargetType, TargetID: r.TargetID,
		IP: r.IP, UserAgent: r.UserAgent, Outcome: audit.Outcome(r.Outcome),
	}
	if r.Metadata.Valid {
		if err := json.Unmarshal([]byte(r.Metadata.String), &e.Metadata); err != nil {
			return audit.Event{}, domain.Internal(err)
		}
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
	}
	return e, nil
}

// List returns one page of matching events, newest first. Only constant SQL
// fragments go into the text; every value is a parameter.
func (s *AuditStore) List(ctx context.Context, q audit.Query) (audit.Page, error) {
	q, err := q.Normalized()
	if err != nil {
		return audit.Page{}, err
	}
	var conds []string
	var args []any
	where := func(cond string, v ...any) {
		conds = append(conds, cond)
		args = append(args, v...)
	}
	if q.ActorID != "" {
		where("actor_id = ?", q.ActorID)
	}
	if q.Action != "" {
		where("action = ?", string(q.Action))
	}
	if !q.From.IsZero() {
		where("occurred_at >= ?", micros(q.From))
	}
	if !q.To.IsZero() {
		where("occurred_at < ?", micros(q.To))
	}
	if q.Cursor != "" {
		p, err := audit.ParseCursor(q.Cursor)
		if err != nil {
			return audit.Page{}, err
		}
		where("(occurred_at, id) < (?, ?)", micros(p.Time), p.ID)
	}
	query := `SELECT ` + auditCols + ` FROM audit_events`
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, " AND ")
	}
	query += ` ORDER BY occurred_at DESC, id DESC LIMIT ?`
	args = append(args, q.Limit+1)
	var rows []auditRec
	if err := s.db.R.SelectContext(ctx, &rows, query, args...); err != nil {
		return audit.Page{}, translate(err)
	}
	events, _, err := page(rows, q.Limit, func(r auditRec) position { return position{r.At, r.ID} }, auditRec.event)
	if err != nil {
		return audit.Page{}, err
	}
	out := audit.Page{Events: events}
	if len(rows) > q.Limit {
		last := events[len(events)-1]
		out.NextCursor = audit.EncodeCursor(audit.Position{Time: last.Time, ID: last.ID})
	}
	return out, nil
}
