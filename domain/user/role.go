package user

import "slices"

// Role is a user's coarse authority. Permissions derive from it at request
// time, so a role change takes effect on the next request, for every token
// and API key the user holds.
type Role string

// The three roles of the contract (§7).
const (
	RoleAdmin  Role = "admin"
	RoleEditor Role = "editor"
	RoleViewer Role = "viewer"
)

// Permission is one capability a route can require.
type Permission string

// The permissions of the contract (§7). Scopes of API keys are drawn from the same set.
const (
	PermWorkflowsRead  Permission = "workflows:read"
	PermWorkflowsWrite Permission = "workflows:write"
	PermAPIKeysManage  Permission = "api_keys:manage"
	PermUsersManage    Permission = "users:manage"
	PermAuditRead      Permission = "audit:read"
)

// AllPermissions lists every permission in a stable order.
var AllPermissions = []Permission{
	PermWorkflowsRead, PermWorkflowsWrite, PermAPIKeysManage, PermUsersManage, PermAuditRead,
}

var rolePermissions = map[Role][]Permission{
	RoleAdmin:  AllPermissions,
	RoleEditor: {PermWorkflowsRead, PermWorkflowsWrite, PermAPIKeysManage},
	RoleViewer: {PermWorkflowsRead, PermAPIKeysManage},
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	_, ok := rolePermissions[r]
	return ok
}

// Permissions returns a fresh copy of the permissions r grants (none for an unknown role).
func (r Role) Permissions() []Permission {
	return slices.Clone(rolePermissions[r])
}

// Has reports whether r grants p.
func (r Role) Has(p Permission) bool {
	return slices.Contains(rolePermissions[r], p)
}

// ValidPermission reports whether p is a known permission.
func ValidPermission(p Permission) bool {
	return slices.Contains(AllPermissions, p)
}
