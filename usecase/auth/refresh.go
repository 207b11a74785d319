package auth

import (
	"context"
	"errors"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
)

// Refresh trades an unexpired, unrevoked access token for its one
// successor and revokes it, atomically (TokenDenylist.ClaimRefresh, a Redis
// SET NX): of N concurrent refreshes of one token exactly one mints the
// successor, and the others, within security.jwt.refresh_grace, get that
// same successor instead of a 401. After the grace the old token is simply
// revoked.
//
// Refresh therefore takes the raw token, not a Principal: the usual
// authentication would refuse the racers (the first claim has already
// denied the token's jti). It checks everything else itself: the signature
// and time claims, the session row (not ended, not past max_session) and,
// after the claim, the denylist for the session and the user's not-before.
func (s *Service) Refresh(ctx context.Context, token string, client principal.Client) (*Token, error) {
	old, err := s.Verifier.Verify(token)
	if err != nil {
		return nil, domain.ErrUnauthenticated
	}
	if !old.Role.Valid() || old.Username == "" {
		return nil, domain.ErrUnauthenticated
	}
	sess, err := s.liveSession(ctx, old)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	u := &user.User{ID: old.UserID, Username: old.Username, Role: old.Role}
	candidate, err := s.issue(old.SessionID, u, now, sess.CreatedAt)
	if err != nil {
		return nil, err
	}
	until := old.ExpiresAt.Add(s.settings.Leeway)
	winner, err := s.Denylist.ClaimRefresh(ctx, old.TokenID, candidate.Token, s.settings.RefreshGrace, until)
	if err != nil {
		return nil, unavailableOr("denylist", err)
	}
	successor, err := s.acceptSuccessor(ctx, old, winner)
	if err != nil {
		return nil, err
	}
	if winner == candidate.Token {
		e := s.event(audit.ActionRefresh, audit.OutcomeSuccess, client)
		e.ActorID, e.ActorName = old.UserID, old.Username
		e.TargetType, e.TargetID = "session", old.SessionID
		if err := s.Sessions.Touch(ctx, old.SessionID, now, e); err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return nil, domain.ErrUnauthenticated // ended while we refreshed
			}
			return nil, unavailableOr("sessions", err)
		}
	}
	return &Token{Token: winner, ExpiresAt: successor.ExpiresAt, SessionID: old.SessionID}, nil
}

// liveSession returns the token's session if it may still be refreshed:
// known, not ended, the token's own user's, and younger than max_session.
func (s *Service) liveSession(ctx context.Context, c session.Claims) (*session.Session, error) {
	sess, err := s.Sessions.Get(ctx, c.SessionID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.ErrUnauthenticated
	}
	if err != nil {
		return nil, unavailableOr("sessions", err)
	}
	if !sess.Active() || sess.UserID != c.UserID {
		return nil, domain.ErrUnauthenticated
	}
	if s.settings.MaxSession > 0 && !s.Clock.Now().Before(sess.CreatedAt.Add(s.settings.MaxSession)) {
		return nil, errSessionExpired
	}
	return sess, nil
}

// acceptSuccessor checks the winning successor before handing it out: it
// must be a token we signed, and its session and user must not have been
// revoked since. The user's not-before is compared with the OLD token's
// issue time, so a user disabled after that token was issued gets no fresh
// token from it, whenever the refresh happens.
func (s *Service) acceptSuccessor(ctx context.Context, old session.Claims, winner string) (session.Claims, error) {
	next, err := s.Verifier.Verify(winner)
	if err != nil || next.SessionID != old.SessionID || next.UserID != old.UserID {
		return session.Claims{}, domain.ErrUnauthenticated
	}
	probe := next
	probe.IssuedAt = old.IssuedAt
	if err := s.Denylist.Check(ctx, probe); err != nil {
		return session.Claims{}, unavailableOr("denylist", err)
	}
	return next, nil
}
