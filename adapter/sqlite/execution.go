package sqlite

import (
	"context"
	"encoding/json"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// ExecutionStore is the SQLite port.ExecutionStore.
type ExecutionStore struct{ db *DB }

var _ port.ExecutionStore = (*ExecutionStore)(nil)

// NewExecutionStore returns a store over db.
func NewExecutionStore(db *DB) *ExecutionStore { return &ExecutionStore{db: db} }

const executionCols = `id, workflow_id, received_at, source_ip, headers, body`

type execRec struct {
	ID         string `db:"id"`
	WorkflowID string `db:"workflow_id"`
	Received   int64  `db:"received_at"`
	SourceIP   string `db:"source_ip"`
	Headers    string `db:"headers"`
	Body       []byte `db:"body"`
}

func (r execRec) execution() (workflow.Execution, error) {
	e := workflow.Execution{
		ID: r.ID, WorkflowID: r.WorkflowID, ReceivedAt: fromMicros(r.Received), SourceIP: r.SourceIP,
		Headers: map[string]string{}, Body: json.RawMessage(r.Body),
	}
	if err := json.Unmarshal([]byte(r.Headers), &e.Headers); err != nil {
		return workflow.Execution{}, domain.Internal(err)
	}
	return e, nil
}

// Create inserts e; an unknown workflow violates the foreign key
// (domain.ErrConflict). The body is stored byte for byte.
func (s *ExecutionStore) Create(ctx context.Context, e *workflow.Execution) error {
	headers := e.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	h, err := json.Marshal(headers)
	if err != nil {
		return domain.Internal(err)
	}
	body := []byte(e.Body)
	if body == nil {
		body = []byte{}
	}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO executions (`+executionCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		e.ID, e.WorkflowID, micros(e.ReceivedAt), e.SourceIP, string(h), body)
	return translate(err)
}

// listedCols are executionCols with the body's size in place of the body:
// length() of a BLOB reads its stored size, not its content.
const listedCols = `id, workflow_id, received_at, source_ip, headers, length(body) AS body_size`

type listedRec struct {
	execRec
	Size int `db:"body_size"`
}

// ListByWorkflow pages through a workflow's executions, newest first, in
// two reads: the page with the bodies' sizes, then only the bodies that fit
// its budget (port.FitBodies), so a page never loads more than
// port.MaxPageBodyBytes of bodies.
func (s *ExecutionStore) ListByWorkflow(ctx context.Context, workflowID, cursor string, limit int) ([]workflow.Execution, string, error) {
	before, err := pageStart(cursor, limit, true)
	if err != nil {
		return nil, "", err
	}
	var rows []listedRec
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT `+listedCols+` FROM executions
		WHERE workflow_id = ? AND (received_at, id) < (?, ?) ORDER BY received_at DESC, id DESC LIMIT ?`,
		workflowID, before.at, before.id, limit+1); err != nil {
		return nil, "", translate(err)
	}
	sizes := make([]int, min(len(rows), limit))
	for i := range sizes {
		sizes[i] = rows[i].Size
	}
	keep := port.FitBodies(sizes)
	var ids []string
	for i, k := range keep {
		if k {
			ids = append(ids, rows[i].ID)
		}
	}
	bodies, err := s.bodies(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	return page(rows, limit, func(r listedRec) position { return position{r.Received, r.ID} },
		func(r listedRec) (workflow.Execution, error) {
			body, ok := bodies[r.ID]
			r.Body = body
			e, err := r.execution()
			if !ok {
				e.Body, e.BodyOmitted = nil, true
			}
			return e, err
		})
}

// bodies reads the bodies of the executions ids (one JSON parameter).
func (s *ExecutionStore) bodies(ctx context.Context, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, domain.Internal(err)
	}
	var rows []struct {
		ID   string `db:"id"`
		Body []byte `db:"body"`
	}
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT id, body FROM executions
		WHERE id IN (SELECT value FROM json_each(?))`, string(b)); err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Body
	}
	return out, nil
}

// Get returns execution id of workflowID, body included.
func (s *ExecutionStore) Get(ctx context.Context, workflowID, id string) (*workflow.Execution, error) {
	var r execRec
	if err := s.db.R.GetContext(ctx, &r, `SELECT `+executionCols+` FROM executions
		WHERE id = ? AND workflow_id = ?`, id, workflowID); err != nil {
		return nil, translate(err)
	}
	e, err := r.execution()
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Prune deletes all but the keep newest executions of workflowID.
func (s *ExecutionStore) Prune(ctx context.Context, workflowID string, keep int) (int, error) {
	return affected(s.db.W.ExecContext(ctx, `DELETE FROM executions WHERE id IN (
		SELECT id FROM executions WHERE workflow_id = ? ORDER BY received_at DESC, id DESC LIMIT -1 OFFSET ?)`,
		workflowID, max(keep, 0)))
}
