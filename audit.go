package hotdesk

import (
	"context"
	"time"
)

// Audit event kinds.
const (
	KindLogin          = "login"
	KindLogout         = "logout"
	KindLoginFailed    = "login_failed"
	KindLocked         = "locked"
	KindUnlocked       = "unlocked"
	KindAuthFailed     = "auth_failed"  // SIP digest failure
	KindAuthBlocked    = "auth_blocked" // source blocked after digest failures
	KindRegistered     = "registered"
	KindUnregistered   = "unregistered"
	KindEmergency      = "emergency_call"
	KindUserChanged    = "user_changed"
	KindDeviceChanged  = "device_changed"
	KindSettings       = "settings_changed"
	KindAdminSignIn    = "admin_sign_in"
	KindProvisionFetch = "provision_fetch"
)

// KindAuthDeviceBlocked is audited when a device's SIP digest is refused for
// a while after failures for that device from any source (issue 11).
const KindAuthDeviceBlocked = "auth_device_blocked"

// Reasons for logouts and failures.
const (
	ReasonUser     = "user"     // the user dialled the logout code or key
	ReasonRoamed   = "roamed"   // the user logged in elsewhere
	ReasonReplaced = "replaced" // another user logged in on this device
	ReasonAdmin    = "admin"    // an admin logged them out
	ReasonAuto     = "auto"     // an auto-logout policy fired
	ReasonDeleted  = "deleted"  // user or device deleted
	ReasonBadPIN   = "bad_pin"
	ReasonLocked   = "locked"
	// A prompted phone login that ended before a PIN was tried.
	ReasonTimeout = "timeout"  // the caller stopped typing
	ReasonHangup  = "hangup"   // the caller hung up while asked for digits
	ReasonNoInput = "no_input" // the caller pressed # with nothing typed
)

// AuditEvent is one entry of the audit trail. Audit IDs are monotonic and the
// audit table doubles as the event log for webhooks.
type AuditEvent struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Extension string    `json:"extension,omitempty"`
	Device    string    `json:"device,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Source    string    `json:"source,omitempty"` // ip:port, "api", "console:<admin>"
	Detail    string    `json:"detail,omitempty"` // free text; never secrets
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	Extension string
	Device    string
	Kinds     []string
	Since     time.Time
	Until     time.Time
	BeforeID  int64 // paging: only IDs below this
	Limit     int   // 0 means 100
}

// AuditStore persists the audit trail.
type AuditStore interface {
	// AppendAudit is the non-transactional form of Tx.AppendAudit.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	// CountAudit counts matching events (ignores BeforeID and Limit).
	CountAudit(ctx context.Context, f AuditFilter) (int, error)
}
