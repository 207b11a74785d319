package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// WorkflowStore is the SQLite port.WorkflowStore and port.WorkflowLister.
type WorkflowStore struct{ db *DB }

var (
	_ port.WorkflowStore  = (*WorkflowStore)(nil)
	_ port.WorkflowLister = (*WorkflowStore)(nil)
)

// NewWorkflowStore returns a store over db.
func NewWorkflowStore(db *DB) *WorkflowStore { return &WorkflowStore{db: db} }

// workflowCols is the column list every query selects, in wfRec.values order.
const workflowCols = `id, name, active, nodes, connections, owner_id, webhook_path, webhook_auth_type,
	webhook_header_name, webhook_header_value_digest, webhook_basic_username, webhook_basic_password_digest,
	webhook_hmac_secret_sealed, created_at, updated_at`

type wfRec struct {
	ID          string         `db:"id"`
	Name        string         `db:"name"`
	Active      bool           `db:"active"`
	Nodes       string         `db:"nodes"`
	Connections string         `db:"connections"`
	OwnerID     string         `db:"owner_id"`
	Path        sql.NullString `db:"webhook_path"`
	AuthType    sql.NullString `db:"webhook_auth_type"`
	HeaderName  sql.NullString `db:"webhook_header_name"`
	HeaderValue sql.NullString `db:"webhook_header_value_digest"`
	BasicUser   sql.NullString `db:"webhook_basic_username"`
	BasicPass   sql.NullString `db:"webhook_basic_password_digest"`
	HMACSealed  []byte         `db:"webhook_hmac_secret_sealed"`
	Created     int64          `db:"created_at"`
	Updated     int64          `db:"updated_at"`
}

// compact returns raw without insignificant white space (as jsonb and the
// memory store keep it); raw is JSON the domain has validated.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// orNull maps "" to NULL, so a webhook's unused fields stay NULL.
func orNull(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func wfRecOf(wf *workflow.Workflow) wfRec {
	r := wfRec{
		ID: wf.ID, Name: wf.Name, Active: wf.Active, Nodes: compact(wf.Nodes), Connections: compact(wf.Connections),
		OwnerID: wf.OwnerID, Created: micros(wf.CreatedAt), Updated: micros(wf.UpdatedAt),
	}
	if h := wf.Webhook; h != nil {
		r.Path = sql.NullString{String: h.Path, Valid: true}
		r.AuthType = sql.NullString{String: string(h.Auth.Type), Valid: true}
		r.HeaderName, r.HeaderValue = orNull(h.Auth.HeaderName), orNull(h.Auth.HeaderValueDigest)
		r.BasicUser, r.BasicPass = orNull(h.Auth.BasicUsername), orNull(h.Auth.BasicPasswordDigest)
		if len(h.Auth.HMACSecretSealed) > 0 {
			r.HMACSealed = h.Auth.HMACSecretSealed
		}
	}
	return r
}

// values lists the record in workflowCols order.
func (r wfRec) values() []any {
	return []any{
		r.ID, r.Name, r.Active, r.Nodes, r.Connections, r.OwnerID, r.Path, r.AuthType,
		r.HeaderName, r.HeaderValue, r.BasicUser, r.BasicPass, r.HMACSealed, r.Created, r.Updated,
	}
}

func (r wfRec) workflow() (workflow.Workflow, error) {
	wf := workflow.Workflow{
		ID: r.ID, Name: r.Name, Active: r.Active,
		Nodes: json.RawMessage(r.Nodes), Connections: json.RawMessage(r.Connections),
		OwnerID: r.OwnerID, CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated),
	}
	if r.Path.Valid {
		wf.Webhook = &workflow.Webhook{Path: r.Path.String, Auth: workflow.WebhookAuth{
			Type:       workflow.AuthType(r.AuthType.String),
			HeaderName: r.HeaderName.String, HeaderValueDigest: r.HeaderValue.String,
			BasicUsername: r.BasicUser.String, BasicPasswordDigest: r.BasicPass.String,
			HMACSecretSealed: r.HMACSealed,
		}}
	}
	return wf, nil
}

// Create inserts wf.
func (s *WorkflowStore) Create(ctx context.Context, wf *workflow.Workflow, events ...audit.Event) error {
	return writeRow(ctx, s.db, events, `INSERT INTO workflows (`+workflowCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, wfRecOf(wf).values()...)
}

// Get returns the workflow with id.
func (s *WorkflowStore) Get(ctx context.Context, id string) (*workflow.Workflow, error) {
	return oneWorkflow(ctx, s.db.R, `SELECT `+workflowCols+` FROM workflows WHERE id = ?`, id)
}

// GetByWebhookPath returns the workflow whose webhook has path.
func (s *WorkflowStore) GetByWebhookPath(ctx context.Context, path string) (*workflow.Workflow, error) {
	return oneWorkflow(ctx, s.db.R, `SELECT `+workflowCols+` FROM workflows WHERE webhook_path = ?`, path)
}

func oneWorkflow(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*workflow.Workflow, error) {
	var r wfRec
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return nil, translate(err)
	}
	wf, err := r.workflow()
	if err != nil {
		return nil, err
	}
	return &wf, nil
}

// Update runs fn on the workflow with id in one write transaction.
func (s *WorkflowStore) Update(ctx context.Context, id string, fn func(*workflow.Workflow) error, events ...audit.Event) (*workflow.Workflow, error) {
	var out *workflow.Workflow
	err := s.db.audited(ctx, events, func(tx *sqlx.Tx) error {
		cur, err := oneWorkflow(ctx, tx, `SELECT `+workflowCols+` FROM workflows WHERE id = ?`, id)
		if err != nil {
			return err
		}
		next := *cur
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.OwnerID, next.CreatedAt = cur.ID, cur.OwnerID, cur.CreatedAt
		r := wfRecOf(&next)
		out, err = oneWorkflow(ctx, tx, `UPDATE workflows SET name = ?, active = ?, nodes = ?, connections = ?,
			webhook_path = ?, webhook_auth_type = ?, webhook_header_name = ?, webhook_header_value_digest = ?,
			webhook_basic_username = ?, webhook_basic_password_digest = ?, webhook_hmac_secret_sealed = ?, updated_at = ?
			WHERE id = ? RETURNING `+workflowCols,
			r.Name, r.Active, r.Nodes, r.Connections, r.Path, r.AuthType, r.HeaderName, r.HeaderValue,
			r.BasicUser, r.BasicPass, r.HMACSealed, r.Updated, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes the workflow with id; its executions go with it.
func (s *WorkflowStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	return writeRow(ctx, s.db, events, `DELETE FROM workflows WHERE id = ?`, id)
}

// List pages through workflows ordered by (created_at, id).
func (s *WorkflowStore) List(ctx context.Context, cursor string, limit int) ([]workflow.Workflow, string, error) {
	after, err := pageStart(cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	var rows []wfRec
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT `+workflowCols+` FROM workflows
		WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`, after.at, after.id, limit+1); err != nil {
		return nil, "", translate(err)
	}
	return page(rows, limit, func(r wfRec) position { return position{r.Created, r.ID} }, wfRec.workflow)
}

var _ port.SealedSecretStore = (*WorkflowStore)(nil)

// ListSealedSecrets pages through the sealed hmac secrets by workflow ID
// (the primary key gives the order; TEXT compares bytewise, as Go strings).
func (s *WorkflowStore) ListSealedSecrets(ctx context.Context, afterID string, limit int) ([]port.SealedSecret, error) {
	if limit < 1 {
		return nil, domain.InvalidField("limit", "must be at least 1")
	}
	// The aliases are the fields' names as sqlx maps them (lower case).
	out := []port.SealedSecret{}
	if err := s.db.R.SelectContext(ctx, &out, `SELECT id AS workflowid, webhook_hmac_secret_sealed AS sealed
		FROM workflows WHERE id > ? AND webhook_hmac_secret_sealed IS NOT NULL ORDER BY id LIMIT ?`, afterID, limit); err != nil {
		return nil, translate(err)
	}
	return out, nil
}

// ReplaceSealedSecret swaps the sealed secret if it is still old, in one
// statement on the writer: an update that came first left no match.
func (s *WorkflowStore) ReplaceSealedSecret(ctx context.Context, workflowID string, old, sealed []byte) (bool, error) {
	err := oneRow(s.db.W.ExecContext(ctx, `UPDATE workflows SET webhook_hmac_secret_sealed = ?
		WHERE id = ? AND webhook_hmac_secret_sealed = ?`, sealed, workflowID, old))
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
