package auth

import (
	"context"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
)

// Logout ends the caller's session, not just the presented token: the jti
// is denied until the token's exp, and the whole sid too, so a successor
// minted by a refresh racing the logout (or still held by another tab) dies
// with it. Every instance sees it at once; the session row is marked ended.
// Only session-token callers can log out (API keys and the basic credential
// have no session: 403).
func (s *Service) Logout(ctx context.Context, p principal.Principal, client principal.Client) error {
	if err := requireJWT(p); err != nil {
		return err
	}
	if err := s.Denylist.DenyToken(ctx, p.TokenID, p.TokenExpiry.Add(s.settings.Leeway)); err != nil {
		return unavailableOr("denylist", err)
	}
	e := s.actorEvent(audit.ActionLogout, audit.OutcomeSuccess, p, client)
	e.TargetType, e.TargetID = "session", p.SessionID
	return s.revoker.EndSession(ctx, p.SessionID, e)
}
