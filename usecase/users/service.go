// Package users holds user administration: create, list, get, update
// (role, disabled, password), delete, and the bootstrap admin. (The package
// is "users" so that it can use domain/user without renaming it.)
//
// Every change that could leave a token more powerful than its user is
// paired with ending the user's sessions in the denylist, so tokens never
// carry a stale role and disabled or deleted users are cut off at once; and
// every change that alters what the user's API keys grant is followed, once
// committed, by an invalidation of their cached grants (Deps.Invalidator).
package users

import (
	"context"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/apikey"
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
	// Invalidator, when set, tells every instance's API-key cache that a
	// user's keys changed standing (role, disabled, deleted, revoked), after
	// the store committed the change and before the call answers; an
	// Invalidate failure makes the call answer 503 although the change is
	// committed. nil means no instance caches keys.
	Invalidator port.KeyInvalidator
}

// Service runs the user administration use cases; each has its own file.
type Service struct {
	Deps
}

// New returns the user administration use cases.
func New(deps Deps) *Service { return &Service{Deps: deps} }

// invalidateOwner forgets the cached grants of every key of userID on every
// instance. Callers call it once the store write that changed the user (or
// their keys) returned, if it may have committed (apikey.MayHaveCommitted),
// and keep the error of the call itself when there is one.
func (s *Service) invalidateOwner(ctx context.Context, userID string) error {
	return apikey.Invalidate(ctx, s.Invalidator, port.FeedEntry{OwnerID: userID})
}

// mayHaveCommitted tells a store write that changed nothing (a refusal)
// from one that may have committed.
var mayHaveCommitted = apikey.MayHaveCommitted

// written records whether a store write ran and may have committed.
type written struct{ maybe bool }

// note records the outcome of a store write.
func (w *written) note(err error) { w.maybe = w.maybe || mayHaveCommitted(err) }

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
