package workflow_test

import (
	"fmt"
	"testing"

	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/domain/workflow"
)

func caller(role user.Role, id string, scopes ...user.Permission) principal.Principal {
	perms := role.Permissions()
	method := principal.MethodJWT
	if scopes != nil {
		method = principal.MethodAPIKey
		var eff []user.Permission
		for _, s := range scopes {
			if role.Has(s) {
				eff = append(eff, s)
			}
		}
		perms = eff
	}
	return principal.Principal{UserID: id, Username: string(role), Role: role, Method: method, Permissions: perms}
}

func TestAccessRules(t *testing.T) {
	t.Parallel()
	const me, other = "u-me", "u-other"
	read, write := user.PermWorkflowsRead, user.PermWorkflowsWrite
	tests := []struct {
		role      user.Role
		owner     string
		scopes    []user.Permission // nil: a session with the role's permissions
		wantRead  bool
		wantWrite bool
	}{
		{user.RoleAdmin, me, nil, true, true},
		{user.RoleAdmin, other, nil, true, true},
		{user.RoleEditor, me, nil, true, true},
		{user.RoleEditor, other, nil, true, false},
		{user.RoleViewer, me, nil, true, false},
		{user.RoleViewer, other, nil, true, false},
		// API keys: scopes narrow the role, never widen it.
		{user.RoleAdmin, other, []user.Permission{read}, true, false},
		// Others' workflows need users:manage in the effective set, not
		// the admin role: an admin's key scoped to workflows:write writes
		// only its owner's.
		{user.RoleAdmin, other, []user.Permission{write}, false, false},
		{user.RoleAdmin, me, []user.Permission{write}, false, true},
		{user.RoleAdmin, other, []user.Permission{write, user.PermUsersManage}, false, true},
		{user.RoleEditor, me, []user.Permission{read}, true, false},
		{user.RoleEditor, me, []user.Permission{write}, false, true},
		{user.RoleEditor, other, []user.Permission{read, write}, true, false},
		{user.RoleEditor, me, []user.Permission{user.PermAPIKeysManage}, false, false},
		{user.RoleViewer, me, []user.Permission{read, write}, true, false},
		{user.RoleViewer, me, []user.Permission{}, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/owner=%s/scopes=%v", tt.role, tt.owner, tt.scopes), func(t *testing.T) {
			t.Parallel()
			p := caller(tt.role, me, tt.scopes...)
			if tt.scopes != nil && len(tt.scopes) == 0 {
				p.Permissions = nil
			}
			wf := &workflow.Workflow{ID: "wf", OwnerID: tt.owner}
			if got := workflow.CanRead(p, wf); got != tt.wantRead {
				t.Errorf("CanRead = %v, want %v", got, tt.wantRead)
			}
			if got := workflow.CanWrite(p, wf); got != tt.wantWrite {
				t.Errorf("CanWrite = %v, want %v", got, tt.wantWrite)
			}
		})
	}
}

func TestCanCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    principal.Principal
		want bool
	}{
		{"admin", caller(user.RoleAdmin, "a"), true},
		{"editor", caller(user.RoleEditor, "e"), true},
		{"viewer", caller(user.RoleViewer, "v"), false},
		{"editor key read only", caller(user.RoleEditor, "e", user.PermWorkflowsRead), false},
		{"editor key write", caller(user.RoleEditor, "e", user.PermWorkflowsWrite), true},
		{"admin without a user (basic credential)", caller(user.RoleAdmin, ""), false},
		{"nobody", principal.Principal{}, false},
	}
	for _, tt := range tests {
		if got := workflow.CanCreate(tt.p); got != tt.want {
			t.Errorf("%s: CanCreate = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCanWriteNeedsAUserForOwnership(t *testing.T) {
	t.Parallel()
	// An editor principal without a user ID must not match an ownerless
	// workflow through "" == "".
	p := caller(user.RoleEditor, "")
	if workflow.CanWrite(p, &workflow.Workflow{OwnerID: ""}) {
		t.Fatal("an editor without a user ID may write an ownerless workflow")
	}
}
