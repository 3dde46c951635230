package hotdesk

import "context"

// Console admin roles (issue 17 item 12). The API's bearer token acts as
// an admin.
const (
	RoleAdmin    = "admin"    // everything
	RoleHelpdesk = "helpdesk" // log users out, unlock, reset PINs, phone actions; no settings or accounts
	RoleViewer   = "viewer"   // read only
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RoleHelpdesk, RoleViewer}

// AdminAccess is what a console account may do.
type AdminAccess struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Disabled bool   `json:"disabled"`
}

// AdminAccessStore keeps the roles of console accounts.
type AdminAccessStore interface {
	// AdminAccess returns the account's role and state: an account with
	// none stored is an enabled admin. ENOTFOUND if there is no such admin.
	AdminAccess(ctx context.Context, username string) (*AdminAccess, error)
	// ListAdminAccess returns every account's access, by username.
	ListAdminAccess(ctx context.Context) ([]AdminAccess, error)
	// PutAdminAccess stores a's role and state; disabling an account ends
	// its sessions in the same transaction. ENOTFOUND if no such admin.
	PutAdminAccess(ctx context.Context, a AdminAccess) error
}
