package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/audit"
)

func TestListerList(t *testing.T) {
	t.Parallel()
	store := memory.NewAuditStore()
	var events []auditdomain.Event
	for i := range 60 {
		e := event(i)
		e.ID = domain.NewID()
		e.Time = t0.Add(time.Duration(i) * time.Second)
		e.ActorID = "u1"
		if i%2 == 1 {
			e.ActorID = "u2"
			e.Action = auditdomain.ActionLogout
		}
		events = append(events, e)
	}
	if err := store.Insert(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	admin := principal.Principal{UserID: "a", Role: user.RoleAdmin, Permissions: user.RoleAdmin.Permissions()}
	editor := principal.Principal{UserID: "e", Role: user.RoleEditor, Permissions: user.RoleEditor.Permissions()}
	tests := []struct {
		name      string
		caller    principal.Principal
		q         auditdomain.Query
		wantErr   error
		wantField string
		wantLen   int
		wantMore  bool
	}{
		{name: "admin, default page", caller: admin, wantLen: auditdomain.DefaultLimit, wantMore: true},
		{name: "admin, by actor", caller: admin, q: auditdomain.Query{ActorID: "u2", Limit: 100}, wantLen: 30},
		{name: "admin, by action and time", caller: admin, q: auditdomain.Query{Action: auditdomain.ActionLogin, From: t0, To: t0.Add(10 * time.Second)}, wantLen: 5},
		{name: "non-admin is refused", caller: editor, wantErr: domain.ErrForbidden},
		{name: "no permissions is refused", caller: principal.Principal{Role: user.RoleAdmin}, wantErr: domain.ErrForbidden},
		{name: "bad limit", caller: admin, q: auditdomain.Query{Limit: 201}, wantErr: domain.ErrInvalid, wantField: "limit"},
		{name: "reversed range", caller: admin, q: auditdomain.Query{From: t0, To: t0.Add(-time.Second)}, wantErr: domain.ErrInvalid, wantField: "to"},
		{name: "action too long", caller: admin, q: auditdomain.Query{Action: auditdomain.Action(string(make([]byte, 65)))}, wantErr: domain.ErrInvalid, wantField: "action"},
		{name: "bad cursor", caller: admin, q: auditdomain.Query{Cursor: "nope"}, wantErr: domain.ErrInvalid, wantField: "cursor"},
	}
	l := audit.NewLister(store)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := l.List(context.Background(), tc.caller, tc.q)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if tc.wantField != "" && domain.As(err).Details[0].Field != tc.wantField {
					t.Fatalf("details = %+v, want %q", domain.As(err).Details, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != tc.wantLen || (page.NextCursor != "") != tc.wantMore {
				t.Fatalf("got %d events, cursor %q; want %d, more=%v", len(page.Events), page.NextCursor, tc.wantLen, tc.wantMore)
			}
		})
	}
}
