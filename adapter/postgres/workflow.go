package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// WorkflowStore is the Postgres port.WorkflowStore and port.WorkflowLister.
type WorkflowStore struct {
	db *sqlx.DB
	// stmts holds the list queries (every GET /workflows), prepared once.
	stmts stmtCache
}

var (
	_ port.WorkflowStore  = (*WorkflowStore)(nil)
	_ port.WorkflowLister = (*WorkflowStore)(nil)
)

// NewWorkflowStore returns a store over db.
func NewWorkflowStore(db *sqlx.DB) *WorkflowStore {
	return &WorkflowStore{db: db}
}

// workflowColumns is the explicit column list every query selects, in the
// order of workflowRow.args.
const workflowColumns = `id, name, active, nodes, connections, owner_id,
	webhook_path, webhook_auth_type, webhook_header_name, webhook_header_value_digest,
	webhook_basic_username, webhook_basic_password_digest, webhook_hmac_secret_sealed,
	created_at, updated_at`

type workflowRow struct {
	ID                  string         `db:"id"`
	Name                string         `db:"name"`
	Active              bool           `db:"active"`
	Nodes               []byte         `db:"nodes"`
	Connections         []byte         `db:"connections"`
	OwnerID             string         `db:"owner_id"`
	WebhookPath         sql.NullString `db:"webhook_path"`
	AuthType            sql.NullString `db:"webhook_auth_type"`
	HeaderName          sql.NullString `db:"webhook_header_name"`
	HeaderValueDigest   sql.NullString `db:"webhook_header_value_digest"`
	BasicUsername       sql.NullString `db:"webhook_basic_username"`
	BasicPasswordDigest sql.NullString `db:"webhook_basic_password_digest"`
	HMACSecretSealed    []byte         `db:"webhook_hmac_secret_sealed"`
	CreatedAt           time.Time      `db:"created_at"`
	UpdatedAt           time.Time      `db:"updated_at"`
}

// nullString maps "" to NULL, so a webhook's unused fields stay NULL.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func toWorkflowRow(wf *workflow.Workflow) workflowRow {
	r := workflowRow{
		ID:          wf.ID,
		Name:        wf.Name,
		Active:      wf.Active,
		Nodes:       wf.Nodes,
		Connections: wf.Connections,
		OwnerID:     wf.OwnerID,
		CreatedAt:   wf.CreatedAt.UTC(),
		UpdatedAt:   wf.UpdatedAt.UTC(),
	}
	if h := wf.Webhook; h != nil {
		r.WebhookPath = sql.NullString{String: h.Path, Valid: true}
		r.AuthType = sql.NullString{String: string(h.Auth.Type), Valid: true}
		r.HeaderName = nullString(h.Auth.HeaderName)
		r.HeaderValueDigest = nullString(h.Auth.HeaderValueDigest)
		r.BasicUsername = nullString(h.Auth.BasicUsername)
		r.BasicPasswordDigest = nullString(h.Auth.BasicPasswordDigest)
		if len(h.Auth.HMACSecretSealed) > 0 {
			r.HMACSecretSealed = h.Auth.HMACSecretSealed
		}
	}
	return r
}

// args lists the row's values in workflowColumns order. JSON goes as text:
// lib/pq sends []byte in binary format, which jsonb would misread.
func (r workflowRow) args() []any {
	return []any{
		r.ID, r.Name, r.Active, string(r.Nodes), string(r.Connections), r.OwnerID,
		r.WebhookPath, r.AuthType, r.HeaderName, r.HeaderValueDigest,
		r.BasicUsername, r.BasicPasswordDigest, r.HMACSecretSealed,
		r.CreatedAt, r.UpdatedAt,
	}
}

func (r workflowRow) toWorkflow() workflow.Workflow {
	wf := workflow.Workflow{
		ID:          r.ID,
		Name:        r.Name,
		Active:      r.Active,
		Nodes:       json.RawMessage(r.Nodes),
		Connections: json.RawMessage(r.Connections),
		OwnerID:     r.OwnerID,
		CreatedAt:   r.CreatedAt.UTC(),
		UpdatedAt:   r.UpdatedAt.UTC(),
	}
	if r.WebhookPath.Valid {
		wf.Webhook = &workflow.Webhook{
			Path: r.WebhookPath.String,
			Auth: workflow.WebhookAuth{
				Type:                workflow.AuthType(r.AuthType.String),
				HeaderName:          r.HeaderName.String,
				HeaderValueDigest:   r.HeaderValueDigest.String,
				BasicUsername:       r.BasicUsername.String,
				BasicPasswordDigest: r.BasicPasswordDigest.String,
				HMACSecretSealed:    r.HMACSecretSealed,
			},
		}
	}
	return wf
}

// Create inserts wf.
func (s *WorkflowStore) Create(ctx context.Context, wf *workflow.Workflow, events ...audit.Event) error {
	return audited(ctx, s.db, events, func(q sqlx.ExtContext) error {
		_, err := q.ExecContext(ctx, `
			INSERT INTO workflows (`+workflowColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			toWorkflowRow(wf).args()...)
		return translate(err)
	})
}

// Get returns the workflow with id.
func (s *WorkflowStore) Get(ctx context.Context, id string) (*workflow.Workflow, error) {
	return s.getOne(ctx, s.db, `SELECT `+workflowColumns+` FROM workflows WHERE id = $1`, id)
}

// GetByWebhookPath returns the workflow whose webhook has path, through the
// unique partial index on webhook_path.
func (s *WorkflowStore) GetByWebhookPath(ctx context.Context, path string) (*workflow.Workflow, error) {
	return s.getOne(ctx, s.db, `SELECT `+workflowColumns+` FROM workflows WHERE webhook_path = $1`, path)
}

func (s *WorkflowStore) getOne(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*workflow.Workflow, error) {
	var r workflowRow
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return nil, translate(err)
	}
	wf := r.toWorkflow()
	return &wf, nil
}

// Update runs fn on the workflow with id inside a transaction that holds
// the row lock (SELECT ... FOR UPDATE), so concurrent updates serialize.
func (s *WorkflowStore) Update(ctx context.Context, id string, fn func(*workflow.Workflow) error, events ...audit.Event) (_ *workflow.Workflow, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	cur, err := s.getOne(ctx, tx, `SELECT `+workflowColumns+` FROM workflows WHERE id = $1 FOR UPDATE`, id)
	if err != nil {
		return nil, err
	}
	next := *cur
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.OwnerID, next.CreatedAt = cur.ID, cur.OwnerID, cur.CreatedAt
	r := toWorkflowRow(&next)
	stored, err := s.getOne(ctx, tx, `
		UPDATE workflows
		SET name = $2, active = $3, nodes = $4, connections = $5,
		    webhook_path = $6, webhook_auth_type = $7, webhook_header_name = $8,
		    webhook_header_value_digest = $9, webhook_basic_username = $10,
		    webhook_basic_password_digest = $11, webhook_hmac_secret_sealed = $12,
		    updated_at = $13
		WHERE id = $1
		RETURNING `+workflowColumns,
		r.ID, r.Name, r.Active, string(r.Nodes), string(r.Connections),
		r.WebhookPath, r.AuthType, r.HeaderName, r.HeaderValueDigest,
		r.BasicUsername, r.BasicPasswordDigest, r.HMACSecretSealed, r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if err := insertEvents(ctx, tx, events); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, translate(err)
	}
	return stored, nil
}

// Delete removes the workflow with id; its executions go with it (ON
// DELETE CASCADE).
func (s *WorkflowStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	return audited(ctx, s.db, events, func(q sqlx.ExtContext) error {
		return deleteByID(ctx, q, "workflows", id)
	})
}

var (
	listFirstPage = `SELECT ` + workflowColumns + ` FROM workflows ORDER BY created_at, id LIMIT $1`
	listNextPage  = `SELECT ` + workflowColumns + ` FROM workflows WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3`
)

// List pages through workflows ordered by (created_at, id), reading one
// row past the page to learn whether another page follows.
func (s *WorkflowStore) List(ctx context.Context, cursor string, limit int) ([]workflow.Workflow, string, error) {
	if err := checkLimit(limit, port.MaxListLimit); err != nil {
		return nil, "", err
	}
	query, args := listFirstPage, []any{limit + 1}
	if cursor != "" {
		k, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		query, args = listNextPage, []any{k.T, k.ID, limit + 1}
	}
	st, err := s.stmts.get(ctx, s.db, query) //nolint:sqlclosecheck // shared prepared statement, not ours to close
	if err != nil {
		return nil, "", err
	}
	var rows []workflowRow
	if err := st.SelectContext(ctx, &rows, args...); err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, limit, func(r workflowRow) pageKey { return pageKey{T: r.CreatedAt, ID: r.ID} })
	return mapRows(rows, workflowRow.toWorkflow), next, nil
}
