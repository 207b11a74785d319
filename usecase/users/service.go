// Package users holds user administration: create, list, get, update
// (role, disabled, password), delete, and the bootstrap admin. (The package
// is "users" so that it can use domain/user without renaming it.)
//
// Every change that could leave a token more powerful than its user is
// paired with ending the user's sessions in the denylist, so tokens never
// carry a stale role and disabled or deleted users are cut off at once.
package users

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// SessionRevoker ends a user's sessions in the denylist and the session
// store together (auth.Revoker implements it).
type SessionRevoker interface {
	// EndSessionsAround ends every session of userID but exceptSID, running
	// change in between so that a login racing the change is ended too.
	EndSessionsAround(ctx context.Context, userID, exceptSID string, change func(context.Context) error) error
	// CutOff denies every token of userID issued up to now.
	CutOff(ctx context.Context, userID string) error
}

// Deps are the ports user administration needs. Revoker and Remover may
// be nil for callers that only create users (the `m9m user create`
// command).
type Deps struct {
	Users   port.UserStore
	Lister  port.UserLister
	Hasher  port.PasswordHasher
	Revoker SessionRevoker
	Remover port.UserRemover
	// Keys, when set, lets RevokeCredentials revoke the user's API keys.
	Keys  port.APIKeyStore
	Audit port.AuditLog
	Clock port.Clock
}

// Service runs the user administration use cases; each has its own file.
type Service struct {
	Deps
}

// New returns the user administration use cases.
func New(deps Deps) *Service { return &Service{Deps: deps} }

// errSelf refuses an admin locking themselves out: demoting, disabling or
// deleting one's own account would, with one admin, leave nobody able to
// undo it. Another admin (or `m9m user create`) can still do it.
var errSelf = domain.ErrConflict.WithMessage("You cannot change the role of, disable or delete your own account")

// event builds an audit event for an action of p on user target.
func (s *Service) event(action audit.Action, p principal.Principal, client principal.Client, target string) audit.Event {
	e := audit.Event{
		ID:         domain.NewID(),
		Time:       s.Clock.Now(),
		ActorID:    p.UserID,
		ActorName:  p.Username,
		Action:     action,
		TargetType: "user",
		TargetID:   target,
		IP:         client.IP,
		UserAgent:  client.UserAgent,
		Outcome:    audit.OutcomeSuccess,
	}
	if client.RequestID != "" {
		e.Metadata = map[string]string{"requestId": client.RequestID}
	}
	return e
}

// renameField rewrites a domain validation error to name field instead.
func renameField(err error, field string) error {
	e := domain.As(err)
	if e.Kind != domain.KindInvalid {
		return err
	}
	details := make([]domain.FieldError, len(e.Details))
	for i, d := range e.Details {
		details[i] = domain.FieldError{Field: field, Message: d.Message}
	}
	return domain.Invalid(details...)
}
