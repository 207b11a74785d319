package workflow

import (
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
)

// The access rules of the contract (§7). Roles grant permissions (admin:
// all; editor: read and write; viewer: read), an API key's scopes narrow
// them, and p.Can sees the result; ownership is the one rule permissions
// cannot express, so it lives here.

// CanRead reports whether p may see wf: every role reads every workflow,
// as long as the credential carries workflows:read.
func CanRead(p principal.Principal, _ *Workflow) bool {
	return p.Can(user.PermWorkflowsRead)
}

// CanCreate reports whether p may create workflows. A workflow needs a
// user to own it, so a principal without a user ID cannot create one.
func CanCreate(p principal.Principal) bool {
	return p.Can(user.PermWorkflowsWrite) && p.UserID != ""
}

// CanWrite reports whether p may change or delete wf: with workflows:write,
// its own workflows, and every workflow when p also manages other users
// (an admin's session; not an admin's key scoped to workflows:write).
func CanWrite(p principal.Principal, wf *Workflow) bool {
	if !p.Can(user.PermWorkflowsWrite) {
		return false
	}
	return p.ManagesOthers() || (p.UserID != "" && wf.OwnerID == p.UserID)
}
