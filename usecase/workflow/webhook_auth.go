package workflow

import (
	"github.com/m9m/auth/domain"
	flow "github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// authBuilder fills one webhook's stored auth from its input, collecting
// field errors. Error messages never repeat a secret.
type authBuilder struct {
	in      *WebhookInput
	keep    *flow.WebhookAuth // the stored auth of the same type, or nil
	out     *flow.WebhookAuth
	sealer  port.SecretSealer
	details []domain.FieldError
}

func (b *authBuilder) fail(field, msg string) {
	b.details = append(b.details, domain.FieldError{Field: "webhook.auth." + field, Message: msg})
}

func (b *authBuilder) check(err error) bool {
	if err != nil {
		b.details = append(b.details, domain.As(err).Details...)
		return false
	}
	return true
}

// unused refuses fields the auth type does not use, so that nobody
// believes a webhook is protected by a secret it ignores.
func (b *authBuilder) unused(fields ...string) {
	given := map[string]bool{
		"name":     b.in.HeaderName != "",
		"value":    b.in.HeaderValue != nil,
		"username": b.in.Username != "",
		"password": b.in.Password != nil,
		"secret":   b.in.Secret != nil,
	}
	for _, f := range fields {
		if given[f] {
			b.fail(f, "is not used by auth type "+string(b.out.Type))
		}
	}
}

// missing reports an omitted secret that cannot be kept.
func (b *authBuilder) missing(field string) {
	b.fail(field, "is required")
}

func (b *authBuilder) header() {
	if b.in.HeaderName == "" {
		b.missing("name")
	} else if canon, err := flow.ValidateHeaderName(b.in.HeaderName); b.check(err) {
		b.out.HeaderName = canon
	}
	switch {
	case b.in.HeaderValue != nil:
		if b.check(flow.ValidateHeaderValue(*b.in.HeaderValue)) {
			b.out.HeaderValueDigest = flow.Digest(*b.in.HeaderValue)
		}
	case b.keep != nil:
		b.out.HeaderValueDigest = b.keep.HeaderValueDigest
	default:
		b.missing("value")
	}
}

func (b *authBuilder) basic() {
	if b.in.Username == "" {
		b.missing("username")
	} else if b.check(flow.ValidateBasicUsername(b.in.Username)) {
		b.out.BasicUsername = b.in.Username
	}
	switch {
	case b.in.Password != nil:
		if b.check(flow.ValidateBasicPassword(*b.in.Password)) {
			b.out.BasicPasswordDigest = flow.Digest(*b.in.Password)
		}
	case b.keep != nil:
		b.out.BasicPasswordDigest = b.keep.BasicPasswordDigest
	default:
		b.missing("password")
	}
}

// hmac seals a new secret. Without a sealer (no webhook encryption key
// configured) a new secret cannot be stored safely, so it is refused; a
// kept secret was sealed earlier and stays as it is.
func (b *authBuilder) hmac() {
	switch {
	case b.in.Secret != nil:
		if !b.check(flow.ValidateHMACSecret(*b.in.Secret)) {
			return
		}
		if b.sealer == nil {
			b.fail("type", "hmac webhooks are unavailable: the server has no security.webhook_encryption_key configured")
			return
		}
		sealed, err := b.sealer.Seal([]byte(*b.in.Secret))
		if err != nil {
			b.fail("secret", "could not be stored")
			return
		}
		b.out.HMACSecretSealed = sealed
	case b.keep != nil:
		b.out.HMACSecretSealed = b.keep.HMACSecretSealed
	default:
		b.missing("secret")
	}
}
