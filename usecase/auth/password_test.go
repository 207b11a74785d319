package auth_test

import (
	"context"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/auth"
)

const newPW = "a brand new long passphrase"

func TestChangePassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "alice", user.RoleViewer, goodPW)
	mine := f.login(t, "alice", goodPW)
	other := f.login(t, "alice", goodPW)
	p := f.principal(t, mine.Token.Token)

	err := f.svc.ChangePassword(context.Background(), p, auth.ChangePasswordInput{CurrentPassword: goodPW, NewPassword: newPW, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	f.principal(t, mine.Token.Token) // the caller's session keeps working
	_, err = f.authenticate(other.Token.Token)
	wantErr(t, err, domain.ErrUnauthenticated)
	if s, _ := f.sessions.Get(context.Background(), other.SessionID); s.Active() {
		t.Fatal("other session row not ended")
	}
	_, err = f.svc.Login(context.Background(), auth.LoginInput{Username: "alice", Password: goodPW, Client: client})
	wantErr(t, err, domain.ErrInvalidCredentials)
	f.login(t, "alice", newPW)
	if n := len(f.audit.find(audit.ActionPasswordChange, audit.OutcomeSuccess)); n != 1 {
		t.Fatalf("password change events = %d", n)
	}
}

func TestChangePasswordRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		current, next string
		fields        []string
	}{
		{"wrong current", "wrong horse battery staple", newPW, []string{"currentPassword"}},
		{"missing current", "", newPW, []string{"currentPassword"}},
		{"new too short", goodPW, "short", []string{"newPassword"}},
		{"new too common", goodPW, "password123", []string{"newPassword"}},
		{"both", "", "", []string{"currentPassword", "newPassword"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.addUser(t, "bob", user.RoleViewer, goodPW)
			res := f.login(t, "bob", goodPW)
			other := f.login(t, "bob", goodPW)
			err := f.svc.ChangePassword(context.Background(), f.principal(t, res.Token.Token),
				auth.ChangePasswordInput{CurrentPassword: tt.current, NewPassword: tt.next, Client: client})
			for _, fld := range tt.fields {
				wantField(t, err, fld)
			}
			f.principal(t, other.Token.Token) // nothing ended
			f.login(t, "bob", goodPW)         // nothing changed
		})
	}
}

func TestChangePasswordIsThrottled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "carol", user.RoleViewer, goodPW)
	p := f.principal(t, f.login(t, "carol", goodPW).Token.Token)
	in := auth.ChangePasswordInput{CurrentPassword: "guess guess guess", NewPassword: newPW, Client: client}
	for range 5 {
		wantField(t, f.svc.ChangePassword(context.Background(), p, in), "currentPassword")
	}
	in.CurrentPassword = goodPW
	wantErr(t, f.svc.ChangePassword(context.Background(), p, in), domain.ErrRateLimited)
}
