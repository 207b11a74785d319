package auth

import (
	"context"
	"errors"
	"maps"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// LoginInput is what a client presents to log in.
type LoginInput struct {
	Username string
	Password string
	Client   principal.Client
}

// Token is a freshly issued access token.
type Token struct {
	Token     string
	ExpiresAt time.Time
	SessionID string
}

// LoginResult is a successful login: the token and who it belongs to.
type LoginResult struct {
	Token
	User user.User
}

// Login checks a username and password and starts a session.
//
// It does not reveal whether a username exists: an unknown user costs a
// dummy hash, and unknown user, wrong password and disabled account all get
// the same INVALID_CREDENTIALS. Throttling is judged before the password
// is: the attempt is counted first (LoginThrottle.Reserve), so N concurrent
// guesses get at most the limit judged and the rest 429, and while
// throttled even the right password gets 429. A success resets the
// username+IP counter. Redis being down makes login 503 (the throttle and
// the denylist both live there).
func (s *Service) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	name := user.NormalizeUsername(in.Username)
	if err := validateLoginInput(name, in.Password); err != nil {
		return nil, err
	}
	if err := s.reserveAttempt(ctx, name, in.Client); err != nil {
		return nil, err
	}
	u, err := s.judge(ctx, name, in.Password)
	if err != nil {
		if errors.Is(err, domain.ErrInvalidCredentials) {
			s.record(ctx, withMeta(s.loginEvent(audit.OutcomeFailure, name, u, in.Client), "reason", failureReason(u)))
		} else {
			s.releaseAttempt(ctx, name, in.Client)
		}
		return nil, err
	}
	res, err := s.startSession(ctx, u, in.Client, s.loginEvent(audit.OutcomeSuccess, name, u, in.Client))
	if err != nil {
		if !errors.Is(err, domain.ErrInvalidCredentials) {
			s.releaseAttempt(ctx, name, in.Client)
		}
		return nil, err
	}
	// The attempt counted against the throttle was a success after all.
	if err := s.Throttle.Forgive(ctx, port.NewLoginAttempt(name, in.Client)); err != nil {
		return nil, unavailableOr("throttle", err)
	}
	return res, nil
}

// validateLoginInput refuses what could never be a valid login before any
// work is spent on it; the limits are public, so this reveals nothing.
func validateLoginInput(name, password string) error {
	var details []domain.FieldError
	switch {
	case name == "":
		details = append(details, domain.FieldError{Field: "username", Message: "is required"})
	case len(name) > user.MaxUsernameLen:
		details = append(details, domain.FieldError{Field: "username", Message: "must be at most 64 characters long"})
	}
	switch {
	case password == "":
		details = append(details, domain.FieldError{Field: "password", Message: "is required"})
	case utf8.RuneCountInString(password) > user.MaxPasswordLen:
		details = append(details, domain.FieldError{Field: "password", Message: "must be at most 1024 characters long"})
	}
	if len(details) > 0 {
		return domain.Invalid(details...)
	}
	return nil
}

// reserveAttempt refuses a throttled caller and otherwise counts this
// attempt as a failure before the password is judged, so concurrent guesses
// cannot all pass the check before any of them is counted. Both happen in
// one atomic LoginThrottle.Reserve (one Redis round trip).
func (s *Service) reserveAttempt(ctx context.Context, name string, client principal.Client) error {
	retry, err := s.Throttle.Reserve(ctx, port.NewLoginAttempt(name, client))
	if err != nil {
		return unavailableOr("throttle", err)
	}
	if retry > 0 {
		e := s.event(audit.ActionLoginThrottled, audit.OutcomeDenied, client)
		e.ActorName = name // the attempted username, as for a failed login
		s.record(ctx, withMeta(e, "retryAfterSeconds", strconv.Itoa(int(math.Ceil(retry.Seconds())))))
		return domain.RateLimited(retry)
	}
	return nil
}

// releaseAttempt gives back the unit reserveAttempt counted when the
// attempt was never judged because the server failed (a store down, a
// hashing queue full): a failure of ours must not lock a user out. It is
// best effort: if the throttle cannot be reached either, the unit lifts
// with its window.
func (s *Service) releaseAttempt(ctx context.Context, name string, client principal.Client) {
	_ = s.Throttle.Release(ctx, port.NewLoginAttempt(name, client))
}

// judge looks the user up and checks the password. Unknown users cost a
// dummy hash; the three failures are one error. The user is returned with
// a failure when known, for the audit record.
func (s *Service) judge(ctx context.Context, name, password string) (*user.User, error) {
	u, err := s.Users.GetByUsername(ctx, name)
	if errors.Is(err, domain.ErrNotFound) {
		if err := s.Hasher.VerifyDummy(ctx, password); err != nil {
			return nil, err
		}
		return nil, domain.ErrInvalidCredentials
	}
	if err != nil {
		return nil, unavailableOr("users", err)
	}
	ok, rehash, err := s.Hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return u, err
	}
	if !ok || u.Disabled {
		return u, domain.ErrInvalidCredentials
	}
	if rehash {
		s.rehash(ctx, u, password)
	}
	return u, nil
}

// rehash upgrades a hash made with outdated parameters. It is best effort:
// a failure leaves the old hash, which still verifies, and the next login
// tries again.
func (s *Service) rehash(ctx context.Context, u *user.User, password string) {
	encoded, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return
	}
	old := u.PasswordHash
	_, _ = s.Users.Update(ctx, u.ID, func(cur *user.User) error {
		if cur.PasswordHash != old {
			return errPasswordChanged // changed meanwhile: keep the newer one
		}
		cur.PasswordHash = encoded
		cur.UpdatedAt = s.Clock.Now()
		return nil
	})
}

var errPasswordChanged = errors.New("password changed concurrently")

// startSession creates the session row, with the login's success event in
// its transaction (the row is what makes the login visible), then reads the
// user again and issues the token with what it finds. The second read closes a race with
// administration: a disable or role change that commits after it ends this
// session (its row already exists), and one that committed before it is
// seen here, so no token ever carries a stale role or outlives a disable.
func (s *Service) startSession(ctx context.Context, u *user.User, client principal.Client, e audit.Event) (*LoginResult, error) {
	now := s.Clock.Now()
	client = client.Storable()
	sess := session.Session{
		ID: domain.NewID(), UserID: u.ID, CreatedAt: now, LastRefreshedAt: now,
		IP: client.IP, UserAgent: client.UserAgent,
	}
	e.TargetType, e.TargetID = "session", sess.ID
	if err := s.Sessions.Create(ctx, sess, e); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			// The user was deleted meanwhile: no session, nothing changed.
			f := changedDuringLogin(e)
			f.TargetType, f.TargetID = "", ""
			s.record(ctx, f)
			return nil, domain.ErrInvalidCredentials
		}
		return nil, unavailableOr("sessions", err)
	}
	cur, err := s.Users.Get(ctx, u.ID)
	if err == nil && cur.Disabled {
		err = domain.ErrNotFound
	}
	if err != nil {
		var ended []audit.Event
		if errors.Is(err, domain.ErrNotFound) {
			// The session's success event is stored: its end is, with the reason.
			ended = append(ended, changedDuringLogin(e))
		}
		_ = s.Sessions.End(ctx, sess.ID, now, ended...)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.ErrInvalidCredentials
		}
		return nil, unavailableOr("users", err)
	}
	tok, err := s.issue(sess.ID, cur, now, sess.CreatedAt)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok, User: *cur}, nil
}

// issue signs a new token of session sid for u, valid from now for the
// token lifetime, but never past the session's maximum age.
func (s *Service) issue(sid string, u *user.User, now, sessionCreated time.Time) (Token, error) {
	exp := now.Add(s.settings.TokenTTL)
	if limit := sessionCreated.Add(s.settings.MaxSession); s.settings.MaxSession > 0 && exp.After(limit) {
		exp = limit
	}
	if !exp.Truncate(time.Second).After(now.Truncate(time.Second)) {
		return Token{}, errSessionExpired // less than a second of session left
	}
	c := session.Claims{
		TokenID:   domain.NewID(),
		SessionID: sid,
		UserID:    u.ID,
		Username:  u.Username,
		Role:      u.Role,
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: exp,
	}
	signed, err := s.Issuer.Issue(c)
	if err != nil {
		return Token{}, err
	}
	return Token{Token: signed, ExpiresAt: exp.Truncate(time.Second).UTC(), SessionID: sid}, nil
}

// changedDuringLogin is the failure event of a login whose account was
// disabled or deleted while it ran, made from its success event e.
func changedDuringLogin(e audit.Event) audit.Event {
	e.ID, e.Outcome = domain.NewID(), audit.OutcomeFailure
	e.Metadata = maps.Clone(e.Metadata)
	return withMeta(e, "reason", "account changed during login")
}

func (s *Service) loginEvent(outcome audit.Outcome, name string, u *user.User, client principal.Client) audit.Event {
	e := s.event(audit.ActionLogin, outcome, client)
	e.ActorName = name
	if u != nil {
		e.ActorID = u.ID
	}
	return e
}

// failureReason says why a login failed, for the audit log only (admins
// read it; the client never sees it).
func failureReason(u *user.User) string {
	switch {
	case u == nil:
		return "unknown user"
	case u.Disabled:
		return "account disabled"
	default:
		return "wrong password"
	}
}
