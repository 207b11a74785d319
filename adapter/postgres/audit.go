package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
)

// AuditStore is the Postgres port.AuditStore.
type AuditStore struct {
	db *sqlx.DB
}

var _ port.AuditStore = (*AuditStore)(nil)

// NewAuditStore returns a store over db.
func NewAuditStore(db *sqlx.DB) *AuditStore {
	return &AuditStore{db: db}
}

// auditColumns is the explicit column list every query selects.
const auditColumns = `id, occurred_at, actor_id, actor_name, action, target_type, target_id, ip, user_agent, outcome, metadata`

// auditInsertSQL writes a whole batch in one statement whatever its size:
// each column travels as one array parameter, numbered from first, and
// unnest turns them back into rows (a multi-row VALUES list would hit the
// 65535-parameter limit at ~6000 events). ON CONFLICT makes a retried batch
// harmless. cond, when set, is a WHERE condition on the whole batch.
func auditInsertSQL(first int, cond string) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO audit_events (` + auditColumns + `)
	SELECT id, occurred_at, NULLIF(actor_id, ''), actor_name, action, target_type, target_id, ip, user_agent, outcome, NULLIF(metadata, '')::jsonb
	FROM unnest(`)
	for i := range auditArgCount {
		if i > 0 {
			b.WriteString(", ")
		}
		typ := "text"
		if i == 1 {
			typ = "timestamptz"
		}
		b.WriteString("$" + strconv.Itoa(first+i) + "::" + typ + "[]")
	}
	b.WriteString(`)
	  AS e(id, occurred_at, actor_id, actor_name, action, target_type, target_id, ip, user_agent, outcome, metadata)`)
	if cond != "" {
		b.WriteString("\n\tWHERE " + cond)
	}
	b.WriteString("\n\tON CONFLICT (id) DO NOTHING")
	return b.String()
}

// auditArgCount is the number of array parameters of auditInsertSQL.
const auditArgCount = 11

var auditInsert = auditInsertSQL(1, "")

// auditedStatement is write (one INSERT or UPDATE, parameters $1 to
// $writeParams) and the insert of its events as ONE statement: the events
// are stored if and only if write touched a row, in the statement's own
// transaction, in one round trip. It returns the number of rows written.
// The hot audited writes (a login's session row, a refresh) use it instead
// of BEGIN, write, insert, COMMIT.
func auditedStatement(write string, writeParams int) string {
	return `WITH w AS (` + write + ` RETURNING 1),
	a AS (` + auditInsertSQL(writeParams+1, "EXISTS (SELECT 1 FROM w)") + `)
	SELECT count(*) FROM w`
}

// auditOutboxInsert is auditInsert plus the rows of invalidation_outbox
// the events call for, as one statement (one round trip, one snapshot):
// $12 and $13 are the key and owner IDs, "" where the other is set.
var auditOutboxInsert = `WITH a AS (` + auditInsert + `)
	INSERT INTO invalidation_outbox (key_id, owner_id)
	SELECT NULLIF(k, ''), NULLIF(o, '') FROM unnest($12::text[], $13::text[]) AS x(k, o)`

// Insert stores the batch in one round trip. These are the audit writer's
// batches, recorded after the fact and outside any change's transaction,
// so they owe the invalidation outbox nothing: the changes that do wrote
// their rows with their own events (insertEvents).
func (s *AuditStore) Insert(ctx context.Context, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	args, err := auditArgs(events)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, auditInsert, args...)
	return translate(err)
}

// insertEvents stores the events of an audited write with q, the
// transaction of the change they record, together with the API-key
// invalidations that change owes the other instances' caches (see
// outboxEntries): the rows commit with the change or not at all.
func insertEvents(ctx context.Context, q sqlx.ExecerContext, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	args, err := auditArgs(events)
	if err != nil {
		return err
	}
	query := auditInsert
	if keys, owners := outboxEntries(events); len(keys) > 0 {
		query = auditOutboxInsert
		args = append(args, pq.Array(keys), pq.Array(owners))
	}
	_, err = q.ExecContext(ctx, query, args...)
	return translate(err)
}

// outboxEntries returns the invalidation_outbox rows that the successful
// events among events call for, as parallel columns (one of each pair is
// ""): a key revoked or rotated (including each key RevokeCredentials
// revokes, audited one by one) names its key; a user updated (role,
// status, password: the grant of their keys carries the first two), deleted
// (their keys go by cascade) or cut off names the user. api_key events
// carry their owner in Metadata["ownerId"], but the key ID is enough: a
// cache forgets a key by its ID, and naming the owner would drop every
// other key of theirs for nothing. A created key needs no row: unknown keys
// are never cached.
func outboxEntries(events []audit.Event) (keys, owners []string) {
	add := func(key, owner string) {
		for i := range keys {
			if keys[i] == key && owners[i] == owner {
				return // batches are a handful of events: a scan beats a map
			}
		}
		keys, owners = append(keys, key), append(owners, owner)
	}
	for _, e := range events {
		if e.Outcome != audit.OutcomeSuccess || e.TargetID == "" {
			continue
		}
		switch e.Action {
		case audit.ActionAPIKeyRevoke, audit.ActionAPIKeyRotate:
			add(e.TargetID, "")
		case audit.ActionUserUpdate, audit.ActionUserDelete, audit.ActionUserRevokeCredentials:
			add("", e.TargetID)
		}
	}
	return keys, owners
}

// auditArgs returns the array parameters of auditInsertSQL for events.
func auditArgs(events []audit.Event) ([]any, error) {
	n := len(events)
	cols := make([][]string, auditArgCount)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	for i, e := range events {
		e = e.Sanitized()
		meta := ""
		if len(e.Metadata) > 0 {
			b, err := json.Marshal(e.Metadata)
			if err != nil {
				return nil, domain.Internal(err)
			}
			meta = string(b)
		}
		row := []string{
			e.ID, e.Time.UTC().Round(time.Microsecond).Format(time.RFC3339Nano), e.ActorID, e.ActorName,
			string(e.Action), e.TargetType, e.TargetID, e.IP, e.UserAgent, string(e.Outcome), meta,
		}
		for c, v := range row {
			cols[c][i] = v
		}
	}
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = pq.Array(c)
	}
	return args, nil
}

// inTx runs fn in a transaction, committing when fn succeeds. Errors
// from fn are returned as they are (fn translates its own driver errors).
func inTx(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return translate(tx.Commit())
}

// audited runs a one-statement write and stores its events with it: without
// events the statement runs alone (no transaction, one round trip), with
// them both run in one transaction, so neither commits without the other.
func audited(ctx context.Context, db *sqlx.DB, events []audit.Event, write func(q sqlx.ExtContext) error) error {
	if len(events) == 0 {
		return write(db)
	}
	return inTx(ctx, db, func(tx *sqlx.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
}

type auditRow struct {
	ID         string         `db:"id"`
	OccurredAt time.Time      `db:"occurred_at"`
	ActorID    sql.NullString `db:"actor_id"`
	ActorName  string         `db:"actor_name"`
	Action     string         `db:"action"`
	TargetType string         `db:"target_type"`
	TargetID   string         `db:"target_id"`
	IP         string         `db:"ip"`
	UserAgent  string         `db:"user_agent"`
	Outcome    string         `db:"outcome"`
	Metadata   []byte         `db:"metadata"`
}

func (r auditRow) toEvent() (audit.Event, error) {
	e := audit.Event{
		ID:         r.ID,
		Time:       r.OccurredAt.UTC(),
		ActorID:    r.ActorID.String,
		ActorName:  r.ActorName,
		Action:     audit.Action(r.Action),
		TargetType: r.TargetType,
		TargetID:   r.TargetID,
		IP:         r.IP,
		UserAgent:  r.UserAgent,
		Outcome:    audit.Outcome(r.Outcome),
	}
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &e.Metadata); err != nil {
			return audit.Event{}, domain.Internal(err)
		}
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
	}
	return e, nil
}

// List returns one page of matching events, newest first.
func (s *AuditStore) List(ctx context.Context, q audit.Query) (audit.Page, error) {
	q, err := q.Normalized()
	if err != nil {
		return audit.Page{}, err
	}
	query, args, err := auditListQuery(q)
	if err != nil {
		return audit.Page{}, err
	}
	var rows []auditRow
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return audit.Page{}, translate(err)
	}
	page := audit.Page{}
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		page.NextCursor = audit.EncodeCursor(audit.Position{Time: last.OccurredAt, ID: last.ID})
	}
	page.Events = make([]audit.Event, len(rows))
	for i, r := range rows {
		if page.Events[i], err = r.toEvent(); err != nil {
			return audit.Page{}, err
		}
	}
	return page, nil
}

// auditListQuery builds the SELECT for a normalized query. Only constant SQL
// fragments and placeholder numbers go into the text; every value is a
// parameter.
func auditListQuery(q audit.Query) (string, []any, error) {
	var conds []string
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.ActorID != "" {
		conds = append(conds, "actor_id = "+param(q.ActorID))
	}
	if q.Action != "" {
		conds = append(conds, "action = "+param(string(q.Action)))
	}
	if !q.From.IsZero() {
		conds = append(conds, "occurred_at >= "+param(q.From.UTC()))
	}
	if !q.To.IsZero() {
		conds = append(conds, "occurred_at < "+param(q.To.UTC()))
	}
	if q.Cursor != "" {
		p, err := audit.ParseCursor(q.Cursor)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "(occurred_at, id) < ("+param(p.Time)+", "+param(p.ID)+")")
	}
	var b strings.Builder
	b.WriteString("SELECT " + auditColumns + " FROM audit_events")
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	b.WriteString(" ORDER BY occurred_at DESC, id DESC LIMIT " + param(q.Limit+1))
	return b.String(), args, nil
}
