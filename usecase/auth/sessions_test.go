package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/auth"
)

func TestLogoutEndsTheWholeSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "alice", user.RoleViewer, goodPW)
	res := f.login(t, "alice", goodPW)
	other := f.login(t, "alice", goodPW)
	next, err := f.refresh(res.Token.Token) // a successor of the same session
	if err != nil {
		t.Fatal(err)
	}
	p := f.principal(t, next.Token)
	if err := f.svc.Logout(context.Background(), p, client); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{res.Token.Token, next.Token} {
		_, err := f.authenticate(tok)
		wantErr(t, err, domain.ErrUnauthenticated)
	}
	f.principal(t, other.Token.Token) // another session is untouched
	sess, _ := f.sessions.Get(context.Background(), res.SessionID)
	if sess.Active() {
		t.Fatal("session row not ended")
	}
	if n := len(f.audit.find(audit.ActionLogout, audit.OutcomeSuccess)); n != 1 {
		t.Fatalf("logout events = %d", n)
	}
}

func TestSessionOperationsNeedASessionToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.addUser(t, "bob", user.RoleAdmin, goodPW)
	for _, p := range []principal.Principal{
		{UserID: u.ID, Username: "bob", Role: user.RoleAdmin, Method: principal.MethodAPIKey, KeyID: "k1", Permissions: user.RoleAdmin.Permissions()},
		{Username: "root", Role: user.RoleAdmin, Method: principal.MethodBasic, Permissions: user.RoleAdmin.Permissions()},
	} {
		wantErr(t, f.svc.Logout(context.Background(), p, client), domain.ErrForbidden)
		err := f.svc.ChangePassword(context.Background(), p, auth.ChangePasswordInput{CurrentPassword: goodPW, NewPassword: "another long passphrase", Client: client})
		wantErr(t, err, domain.ErrForbidden)
	}
}

func TestMeComesFromThePrincipal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "carol", user.RoleEditor, goodPW)
	p := f.principal(t, f.login(t, "carol", goodPW).Token.Token)
	m := f.svc.Me(p)
	if m.Username != "carol" || m.Role != user.RoleEditor || m.Method != principal.MethodJWT || len(m.Permissions) != 3 {
		t.Fatalf("me = %+v", m)
	}
	if got := f.svc.Me(principal.Principal{Method: principal.MethodBasic}); got.Permissions == nil {
		t.Fatal("permissions must be an empty list, not null")
	}
}

func TestListSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.addUser(t, "dave", user.RoleViewer, goodPW)
	f.addUser(t, "erin", user.RoleViewer, goodPW)
	stale := f.login(t, "dave", goodPW)
	f.clock.Advance(time.Hour + time.Minute) // stale's token is dead and never refreshed
	ended := f.login(t, "dave", goodPW)
	f.clock.Advance(time.Minute)
	older := f.login(t, "dave", goodPW)
	f.clock.Advance(time.Minute)
	cur := f.login(t, "dave", goodPW)
	f.login(t, "erin", goodPW)
	if err := f.svc.Revoker().EndSession(context.Background(), ended.SessionID); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.ListSessions(context.Background(), f.principal(t, cur.Token.Token))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != cur.SessionID || list[1].ID != older.SessionID {
		t.Fatalf("sessions = %+v (stale %s)", list, stale.SessionID)
	}
	if !list[0].Current || list[1].Current {
		t.Fatal("current flag wrong")
	}
	if list[0].UserID != u.ID || list[0].IP != client.IP || list[0].UserAgent != client.UserAgent {
		t.Fatalf("session = %+v", list[0])
	}
	// Only a session credential lists sessions: not basic auth, not an
	// API key of the same user, whatever its scopes.
	for _, p := range []principal.Principal{
		{Method: principal.MethodBasic, Role: user.RoleAdmin, Permissions: user.RoleAdmin.Permissions()},
		{Method: principal.MethodAPIKey, UserID: u.ID, KeyID: "k1", Role: u.Role, Permissions: u.Role.Permissions()},
	} {
		_, err := f.svc.ListSessions(context.Background(), p)
		wantErr(t, err, domain.ErrForbidden)
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "fred", user.RoleViewer, goodPW)
	f.addUser(t, "gina", user.RoleViewer, goodPW)
	f.addUser(t, "root", user.RoleAdmin, goodPW)
	ctx := context.Background()
	a := f.login(t, "fred", goodPW)
	b := f.login(t, "fred", goodPW)
	g := f.login(t, "gina", goodPW)
	pa := f.principal(t, a.Token.Token)

	wantErr(t, f.svc.EndSession(ctx, pa, g.SessionID, client), domain.ErrForbidden)
	wantErr(t, f.svc.EndSession(ctx, pa, "no-such-session", client), domain.ErrNotFound)
	if err := f.svc.EndSession(ctx, pa, b.SessionID, client); err != nil {
		t.Fatal(err)
	}
	_, err := f.authenticate(b.Token.Token)
	wantErr(t, err, domain.ErrUnauthenticated)
	f.principal(t, a.Token.Token)
	wantErr(t, f.svc.EndSession(ctx, pa, b.SessionID, client), domain.ErrNotFound) // already ended

	// An admin may end anyone's session.
	admin := f.principal(t, f.login(t, "root", goodPW).Token.Token)
	if err := f.svc.EndSession(ctx, admin, g.SessionID, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.authenticate(g.Token.Token)
	wantErr(t, err, domain.ErrUnauthenticated)
	ev := f.audit.find(audit.ActionSessionEnd, audit.OutcomeSuccess)
	if len(ev) != 2 || ev[1].Metadata["sessionUserId"] == "" {
		t.Fatalf("session end events = %+v", ev)
	}
	// Ending one's current session is a logout.
	if err := f.svc.EndSession(ctx, pa, a.SessionID, client); err != nil {
		t.Fatal(err)
	}
	_, err = f.authenticate(a.Token.Token)
	wantErr(t, err, domain.ErrUnauthenticated)
}
