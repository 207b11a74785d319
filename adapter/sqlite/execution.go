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

// ListByWorkflow pages through a workflow's executions, newest first.
func (s *ExecutionStore) ListByWorkflow(ctx context.Context, workflowID, cursor string, limit int) ([]workflow.Execution, string, error) {
	before, err := pageStart(cursor, limit, true)
	if err != nil {
		return nil, "", err
	}
	var rows []execRec
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT `+executionCols+` FROM executions
		WHERE workflow_id = ? AND (received_at, id) < (?, ?) ORDER BY received_at DESC, id DESC LIMIT ?`,
		workflowID, before.at, before.id, limit+1); err != nil {
		return nil, "", translate(err)
	}
	return page(rows, limit, func(r execRec) position { return position{r.Received, r.ID} }, execRec.execution)
}

// Prune deletes all but the keep newest executions of workflowID.
func (s *ExecutionStore) Prune(ctx context.Context, workflowID string, keep int) (int, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM executions WHERE id IN (
		SELECT id FROM executions WHERE workflow_id = ? ORDER BY received_at DESC, id DESC LIMIT -1 OFFSET ?)`,
		workflowID, max(keep, 0))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}
