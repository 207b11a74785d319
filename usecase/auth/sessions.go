package auth

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
)

// SessionView is one of the caller's live sessions.
type SessionView struct {
	session.Session
	// Current marks the session of the token making the request.
	Current bool
}

// ListSessions returns the caller's live sessions, newest first. A session
// is live while it is not ended, younger than max_session, and its latest
// token can still be valid (it was refreshed within the token lifetime);
// the rest can never be used again and are left out.
//
// It needs a session credential: an API key (whatever its scopes) or basic
// auth is 403, since the list shows where and with what the user logs in.
func (s *Service) ListSessions(ctx context.Context, p principal.Principal) ([]SessionView, error) {
	if !p.HasSession() || p.UserID == "" {
		return nil, errSessionRequired
	}
	all, err := s.Sessions.ListActive(ctx, p.UserID)
	if err != nil {
		return nil, unavailableOr("sessions", err)
	}
	now := s.Clock.Now()
	out := make([]SessionView, 0, len(all))
	for _, sess := range all {
		if !s.live(sess, now) {
			continue
		}
		out = append(out, SessionView{Session: sess, Current: p.HasSession() && sess.ID == p.SessionID})
	}
	return out, nil
}

// errSessionRequired refuses a session list to a caller without a session.
var errSessionRequired = domain.ErrForbidden.WithMessage("Listing sessions needs a session credential (log in); API keys and basic auth cannot")

// live reports whether any token of sess can still be accepted at now.
func (s *Service) live(sess session.Session, now time.Time) bool {
	if !sess.Active() {
		return false
	}
	if s.settings.MaxSession > 0 && !now.Before(sess.CreatedAt.Add(s.settings.MaxSession+s.settings.Leeway)) {
		return false
	}
	return now.Before(sess.LastRefreshedAt.Add(s.settings.TokenTTL + s.settings.Leeway))
}

// EndSession ends session id: every token of it stops working at once, on
// every instance. The caller may end their own sessions (the current one
// too, which is a logout); someone else's is 403 unless the caller manages
// users; an unknown or already ended session is 404.
func (s *Service) EndSession(ctx context.Context, p principal.Principal, id string, client principal.Client) error {
	sess, err := s.Sessions.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrNotFound.WithMessage("Session not found")
	}
	if err != nil {
		return unavailableOr("sessions", err)
	}
	if sess.UserID != p.UserID && !p.ManagesOthers() {
		return domain.ErrForbidden.WithMessage("This session belongs to another user")
	}
	if !sess.Active() {
		return domain.ErrNotFound.WithMessage("Session not found")
	}
	e := s.actorEvent(audit.ActionSessionEnd, audit.OutcomeSuccess, p, client)
	e.TargetType, e.TargetID = "session", sess.ID
	if sess.UserID != p.UserID {
		e = withMeta(e, "sessionUserId", sess.UserID)
	}
	return s.revoker.EndSession(ctx, sess.ID, e)
}
