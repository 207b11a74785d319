// Package workflow models m9m's protected resource: workflows, the webhooks
// that trigger them from outside, and the deliveries those webhooks receive.
// It holds the validation rules and the access rules as pure functions, so
// every rule is testable without HTTP or a database.
package workflow

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
)

// Workflow is an automation owned by one user. Nodes is a JSON array and
// Connections a JSON object; their inner shape belongs to the workflow
// engine, not to this service, so they are kept as opaque JSON.
type Workflow struct {
	ID          string
	Name        string
	Active      bool
	Nodes       json.RawMessage
	Connections json.RawMessage
	// Webhook is nil when the workflow cannot be triggered from outside.
	Webhook   *Webhook
	OwnerID   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Name limits, in characters.
const (
	MinNameLen = 1
	MaxNameLen = 200
)

// Defaults for a workflow created without nodes or connections.
var (
	EmptyNodes       = json.RawMessage(`[]`)
	EmptyConnections = json.RawMessage(`{}`)
)

// Webhook is the public trigger of a workflow: POST /webhook/{Path},
// guarded by Auth.
type Webhook struct {
	Path string
	Auth WebhookAuth
}

// Validate checks every field and reports all problems at once.
func (w *Workflow) Validate() error {
	var details []domain.FieldError
	add := func(err error) {
		if err != nil {
			details = append(details, domain.As(err).Details...)
		}
	}
	add(ValidateName(w.Name))
	add(ValidateNodes(w.Nodes))
	add(ValidateConnections(w.Connections))
	if w.Webhook != nil {
		add(ValidatePath(w.Webhook.Path))
	}
	if len(details) > 0 {
		return domain.Invalid(details...)
	}
	return nil
}

// ValidateName checks a workflow name: 1–200 characters of valid UTF-8,
// without control characters (names appear in logs and UIs).
func ValidateName(name string) error {
	if !utf8.ValidString(name) {
		return domain.InvalidField("name", "must be valid UTF-8")
	}
	n := utf8.RuneCountInString(name)
	if n < MinNameLen || n > MaxNameLen {
		return domain.InvalidField("name", "must be 1 to 200 characters long")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return domain.InvalidField("name", "must not contain control characters")
		}
	}
	return nil
}

// ValidateNodes checks that raw is a JSON array that Postgres can store.
func ValidateNodes(raw json.RawMessage) error {
	return validateDocument("nodes", raw, '[', "must be a JSON array")
}

// ValidateConnections checks that raw is a JSON object that Postgres can store.
func ValidateConnections(raw json.RawMessage) error {
	return validateDocument("connections", raw, '{', "must be a JSON object")
}

func validateDocument(field string, raw json.RawMessage, open byte, shape string) error {
	if !json.Valid(raw) {
		return domain.InvalidField(field, shape)
	}
	if first, ok := firstByte(raw); !ok || first != open {
		return domain.InvalidField(field, shape)
	}
	if msg := CheckStorable(raw); msg != "" {
		return domain.InvalidField(field, msg)
	}
	return nil
}

// firstByte returns the first non-white-space byte of raw.
func firstByte(raw []byte) (byte, bool) {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		default:
			return c, true
		}
	}
	return 0, false
}
