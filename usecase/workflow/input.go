package workflow

import (
	"encoding/json"

	"github.com/m9m/auth/domain"
	flow "github.com/m9m/auth/domain/workflow"
)

// Input is a workflow as a client writes it, for create and for replace
// (PUT): absent nodes and connections default to [] and {}, an absent
// webhook means none.
type Input struct {
	Name        string
	Active      bool
	Nodes       json.RawMessage
	Connections json.RawMessage
	Webhook     *WebhookInput
}

// WebhookInput is a webhook as a client writes it. Secrets are pointers:
// nil means "not given", which on replace keeps the stored secret when the
// auth type stays the same (clients never see secrets again, so they could
// not resend them), and is an error anywhere else.
type WebhookInput struct {
	Path string
	Type string
	// HeaderName and HeaderValue are for type header.
	HeaderName  string
	HeaderValue *string
	// Username and Password are for type basic.
	Username string
	Password *string
	// Secret is for type hmac.
	Secret *string
}

// apply writes in over wf (a new or a stored workflow) and validates the
// result, reporting every problem at once. prev is wf's current webhook,
// whose secrets an omitted secret keeps.
func (s *Service) apply(wf *flow.Workflow, in Input) error {
	hook, details := s.buildWebhook(in.Webhook, wf.Webhook)
	wf.Name = in.Name
	wf.Active = in.Active
	wf.Nodes = orDefault(in.Nodes, flow.EmptyNodes)
	wf.Connections = orDefault(in.Connections, flow.EmptyConnections)
	wf.Webhook = hook
	if err := wf.Validate(); err != nil {
		details = append(domain.As(err).Details, details...)
	}
	if len(details) > 0 {
		return domain.Invalid(details...)
	}
	return nil
}

func orDefault(raw, def json.RawMessage) json.RawMessage {
	if raw == nil {
		return def
	}
	return raw
}

// buildWebhook turns in into what is stored, digesting or sealing its
// secret. It returns a webhook with at least the path even when the auth
// part is invalid, so the path is validated too.
func (s *Service) buildWebhook(in *WebhookInput, prev *flow.Webhook) (*flow.Webhook, []domain.FieldError) {
	if in == nil {
		return nil, nil
	}
	hook := &flow.Webhook{Path: in.Path, Auth: flow.WebhookAuth{Type: flow.AuthType(in.Type)}}
	var keep *flow.WebhookAuth
	if prev != nil && prev.Auth.Type == hook.Auth.Type {
		keep = &prev.Auth
	}
	b := authBuilder{in: in, keep: keep, out: &hook.Auth, sealer: s.Sealer}
	switch hook.Auth.Type {
	case flow.AuthNone:
		b.unused("name", "value", "username", "password", "secret")
	case flow.AuthHeader:
		b.header()
		b.unused("username", "password", "secret")
	case flow.AuthBasic:
		b.basic()
		b.unused("name", "value", "secret")
	case flow.AuthHMAC:
		b.hmac()
		b.unused("name", "value", "username", "password")
	default:
		b.fail("type", "must be one of none, header, basic, hmac")
	}
	return hook, b.details
}
