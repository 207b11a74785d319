// Package audit describes the security audit trail: who did what to which
// target, from where, and whether it worked (contract §9).
package audit

import "time"

// Outcome says whether the audited attempt succeeded.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
	OutcomeDenied  Outcome = "denied" // refused by throttle, permission or policy
)

// Action names an audited event type. Values are stable strings clients filter on.
type Action string

// The audited actions.
const (
	ActionLogin          Action = "auth.login"
	ActionRefresh        Action = "auth.refresh"
	ActionLogout         Action = "auth.logout"
	ActionSessionEnd     Action = "auth.session_end"
	ActionPasswordChange Action = "auth.password_change"
	ActionLoginThrottled Action = "auth.throttled"
	ActionBasicFailure   Action = "auth.basic_failure"
	ActionAPIKeyCreate   Action = "api_key.create"
	ActionAPIKeyRotate   Action = "api_key.rotate" //nolint:gosec // an action name, not a credential
	ActionAPIKeyRevoke   Action = "api_key.revoke" //nolint:gosec // an action name, not a credential
	ActionUserCreate     Action = "user.create"
	ActionUserUpdate     Action = "user.update"
	ActionUserDelete     Action = "user.delete"
	// ActionUserRevokeCredentials is an admin ending every session and
	// revoking every API key of a user.
	ActionUserRevokeCredentials Action = "user.revoke_credentials" //nolint:gosec // an action name, not a credential
	ActionWorkflowCreate        Action = "workflow.create"
	ActionWorkflowUpdate        Action = "workflow.update"
	ActionWorkflowDelete        Action = "workflow.delete"
	ActionWebhookAuthFail       Action = "webhook.auth_failure"
)

// Event is one audit record. ActorID is empty for anonymous attempts (a
// failed login records the attempted username in ActorName); Metadata must
// never carry secrets.
type Event struct {
	ID         string
	Time       time.Time
	ActorID    string
	ActorName  string
	Action     Action
	TargetType string
	TargetID   string
	IP         string
	UserAgent  string
	Outcome    Outcome
	Metadata   map[string]string
}
