package apikey_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/apikey"
)

func TestListShowsOwnLiveKeysNewestFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	ctx := context.Background()
	owner := f.user(t, user.RoleViewer)
	other := f.user(t, user.RoleViewer)
	var ids []string
	for range 3 {
		ids = append(ids, f.create(t, owner, apikey.CreateInput{}).Key.ID)
		f.clock.Advance(time.Second)
	}
	f.create(t, other, apikey.CreateInput{})
	_ = f.svc.Revoke(ctx, owner, client, ids[1])

	page, err := f.svc.List(ctx, owner, apikey.ListInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Keys) != 2 || page.Keys[0].ID != ids[2] || page.Keys[1].ID != ids[0] || page.NextCursor != "" {
		t.Fatalf("page = %+v", page)
	}

	first, err := f.svc.List(ctx, owner, apikey.ListInput{Limit: 1})
	if err != nil || len(first.Keys) != 1 || first.NextCursor == "" {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	second, err := f.svc.List(ctx, owner, apikey.ListInput{Limit: 1, Cursor: first.NextCursor})
	if err != nil || len(second.Keys) != 1 || second.Keys[0].ID != ids[0] || second.NextCursor != "" {
		t.Fatalf("second page = %+v, %v", second, err)
	}
}

func TestListOtherUsersKeysIsForAdmins(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	ctx := context.Background()
	owner := f.user(t, user.RoleEditor)
	stranger := f.user(t, user.RoleEditor)
	admin := f.user(t, user.RoleAdmin)
	k := f.create(t, owner, apikey.CreateInput{})

	_, err := f.svc.List(ctx, stranger, apikey.ListInput{UserID: owner.UserID})
	wantErr(t, err, domain.ErrForbidden)

	page, err := f.svc.List(ctx, admin, apikey.ListInput{UserID: owner.UserID})
	if err != nil || len(page.Keys) != 1 || page.Keys[0].ID != k.Key.ID {
		t.Fatalf("admin list = %+v, %v", page, err)
	}
	_, err = f.svc.List(ctx, admin, apikey.ListInput{UserID: domain.NewID()})
	wantErr(t, err, domain.ErrNotFound)

	own, err := f.svc.List(ctx, owner, apikey.ListInput{UserID: owner.UserID})
	if err != nil || len(own.Keys) != 1 {
		t.Fatalf("own list by id = %+v, %v", own, err)
	}

	basic := principal.Principal{Username: "ops", Role: user.RoleAdmin, Method: principal.MethodBasic, Permissions: user.AllPermissions}
	none, err := f.svc.List(ctx, basic, apikey.ListInput{})
	if err != nil || none.Keys == nil || len(none.Keys) != 0 {
		t.Fatalf("unlinked basic list = %+v, %v", none, err)
	}
}

func TestListValidatesPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 100)
	p := f.user(t, user.RoleViewer)
	for _, limit := range []int{-1, apikey.MaxListLimit + 1} {
		_, err := f.svc.List(context.Background(), p, apikey.ListInput{Limit: limit})
		wantField(t, err, "limit")
	}
	_, err := f.svc.List(context.Background(), p, apikey.ListInput{Cursor: "!!"})
	wantField(t, err, "cursor")
}
