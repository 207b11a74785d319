package workflow

import (
	"encoding/json"
	"time"
)

// Execution is one accepted webhook delivery, kept so that users can see
// what triggered their workflow. Headers hold only non-secret headers (the
// webhook use case drops credentials before storing); Body is the JSON
// body exactly as received.
type Execution struct {
	ID         string
	WorkflowID string
	ReceivedAt time.Time
	SourceIP   string
	Headers    map[string]string
	Body       json.RawMessage
	// BodyOmitted marks a listed execution whose body was left out of its
	// page (Body is nil): the page's budget of bodies was spent. Read it
	// alone with ExecutionStore.Get.
	BodyOmitted bool
}
