package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// ExecutionStore is the Postgres port.ExecutionStore.
type ExecutionStore struct {
	db *sqlx.DB
}

var _ port.ExecutionStore = (*ExecutionStore)(nil)

// NewExecutionStore returns a store over db.
func NewExecutionStore(db *sqlx.DB) *ExecutionStore {
	return &ExecutionStore{db: db}
}

const executionColumns = `id, workflow_id, received_at, source_ip, headers, body`

type executionRow struct {
	ID         string    `db:"id"`
	WorkflowID string    `db:"workflow_id"`
	ReceivedAt time.Time `db:"received_at"`
	SourceIP   string    `db:"source_ip"`
	Headers    []byte    `db:"headers"`
	Body       []byte    `db:"body"`
}

func (r executionRow) toExecution() (workflow.Execution, error) {
	e := workflow.Execution{
		ID:         r.ID,
		WorkflowID: r.WorkflowID,
		ReceivedAt: r.ReceivedAt.UTC(),
		SourceIP:   r.SourceIP,
		Headers:    map[string]string{},
		Body:       json.RawMessage(r.Body),
	}
	if err := json.Unmarshal(r.Headers, &e.Headers); err != nil {
		return workflow.Execution{}, domain.Internal(err)
	}
	return e, nil
}

// Create inserts e. A workflow that does not exist (or was just deleted)
// is domain.ErrConflict through the foreign key.
func (s *ExecutionStore) Create(ctx context.Context, e *workflow.Execution) error {
	headers := e.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	h, err := json.Marshal(headers)
	if err != nil {
		return domain.Internal(err)
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO executions (`+executionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.WorkflowID, e.ReceivedAt.UTC(), e.SourceIP, string(h), string(e.Body))
	return translate(err)
}

// listedColumns are executionColumns with the body's size in place of the
// body: a page first learns how large its bodies are without reading them.
// octet_length of a json value reads its stored length, not its content.
const listedColumns = `id, workflow_id, received_at, source_ip, headers, octet_length(body::text) AS body_size`

type listedRow struct {
	executionRow
	BodySize int `db:"body_size"`
}

// ListByWorkflow pages through a workflow's executions, newest first, on
// the (workflow_id, received_at DESC, id DESC) index, in two statements:
// the page without bodies (with their sizes), then the bodies that fit the
// page's budget (port.FitBodies), so one page never reads more than
// port.MaxPageBodyBytes of bodies from the database.
func (s *ExecutionStore) ListByWorkflow(ctx context.Context, workflowID, cursor string, limit int) ([]workflow.Execution, string, error) {
	if err := checkLimit(limit, port.MaxListLimit); err != nil {
		return nil, "", err
	}
	var rows []listedRow
	var err error
	if cursor == "" {
		err = s.db.SelectContext(ctx, &rows, `SELECT `+listedColumns+` FROM executions
			WHERE workflow_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2`, workflowID, limit+1)
	} else {
		k, cerr := decodeCursor(cursor)
		if cerr != nil {
			return nil, "", cerr
		}
		err = s.db.SelectContext(ctx, &rows, `SELECT `+listedColumns+` FROM executions
			WHERE workflow_id = $1 AND (received_at, id) < ($2, $3)
			ORDER BY received_at DESC, id DESC LIMIT $4`, workflowID, k.T, k.ID, limit+1)
	}
	if err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, limit, func(r listedRow) pageKey { return pageKey{T: r.ReceivedAt, ID: r.ID} })
	sizes := make([]int, len(rows))
	for i, r := range rows {
		sizes[i] = r.BodySize
	}
	keep := port.FitBodies(sizes)
	ids := make([]string, 0, len(rows))
	for i, r := range rows {
		if keep[i] {
			ids = append(ids, r.ID)
		}
	}
	bodies, err := s.bodies(ctx, workflowID, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]workflow.Execution, len(rows))
	for i, r := range rows {
		body, ok := bodies[r.ID]
		r.Body = body
		if out[i], err = r.toExecution(); err != nil {
			return nil, "", err
		}
		if !ok {
			out[i].Body, out[i].BodyOmitted = nil, true
		}
	}
	return out, next, nil
}

// bodies reads the bodies of the executions ids of workflowID by id. An
// execution pruned since the page was read is missing from the result (its
// body is then omitted).
func (s *ExecutionStore) bodies(ctx context.Context, workflowID string, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   string `db:"id"`
		Body []byte `db:"body"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, body FROM executions
		WHERE workflow_id = $1 AND id = ANY($2)`, workflowID, pq.Array(ids)); err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Body
	}
	return out, nil
}

// Get reads one execution of workflowID, body included.
func (s *ExecutionStore) Get(ctx context.Context, workflowID, id string) (*workflow.Execution, error) {
	var r executionRow
	err := s.db.GetContext(ctx, &r, `SELECT `+executionColumns+` FROM executions
		WHERE workflow_id = $1 AND id = $2`, workflowID, id)
	if err != nil {
		return nil, translate(err)
	}
	e, err := r.toExecution()
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Prune deletes all but the keep newest executions of workflowID in one
// statement on the same index.
func (s *ExecutionStore) Prune(ctx context.Context, workflowID string, keep int) (int, error) {
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM executions WHERE id IN (
			SELECT id FROM executions WHERE workflow_id = $1
			ORDER BY received_at DESC, id DESC OFFSET $2)`, workflowID, max(keep, 0))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}
