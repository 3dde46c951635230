package hotdesk

import (
	"context"
	"time"
)

// How a login was made.
const (
	ViaPhone = "phone"
	ViaAdmin = "admin"
	ViaAPI   = "api"
)

// Login says that a user is at a device. At most one per user and one per
// device; the database enforces both.
type Login struct {
	Extension string     `json:"extension"`
	Device    string     `json:"device"`
	Since     time.Time  `json:"since"`
	Via       string     `json:"via"`
	EndsAt    *time.Time `json:"ends_at"` // earliest auto-logout deadline, if any
	// Policy names the policy behind EndsAt ("daily", "max_duration", "idle").
	Policy       string    `json:"policy,omitempty"`
	LastActivity time.Time `json:"last_activity"` // last call made or answered
}

// LoginStore reads logins outside a transaction. Changes go through Tx.
type LoginStore interface {
	ListLogins(ctx context.Context) ([]*Login, error)
	LoginByUser(ctx context.Context, ext string) (*Login, error)
	LoginByDevice(ctx context.Context, device string) (*Login, error)
	// TouchLogin records activity (a call) on the device's login; no-op if none.
	TouchLogin(ctx context.Context, device string, at time.Time) error
}

// Binding is one registered contact of a device.
type Binding struct {
	Device    string    `json:"-"`
	Contact   string    `json:"contact"` // Contact URI as registered
	Expires   time.Time `json:"expires"`
	CallID    string    `json:"call_id"`
	CSeq      uint32    `json:"cseq"`
	UserAgent string    `json:"user_agent"`
	Source    string    `json:"source"`    // ip:port the REGISTER came from
	Transport string    `json:"transport"` // udp, tcp
	Node      string    `json:"node"`      // PBX node holding the connection
	Updated   time.Time `json:"updated"`
}

// BindingStore persists registrations so they survive restarts. The
// registrar keeps the live table in memory and writes through in batches.
type BindingStore interface {
	// PutBindings upserts bindings keyed by (Device, Contact) in one transaction.
	PutBindings(ctx context.Context, bs []Binding) error
	// DeleteBindings removes the (Device, Contact) pairs given.
	DeleteBindings(ctx context.Context, bs []Binding) error
	// ListBindings returns all bindings that have not expired at now.
	ListBindings(ctx context.Context, now time.Time) ([]Binding, error)
	// DeviceBindings returns the device's unexpired bindings.
	DeviceBindings(ctx context.Context, device string, now time.Time) ([]Binding, error)
	// DeleteExpiredBindings removes bindings that expired before now.
	DeleteExpiredBindings(ctx context.Context, now time.Time) (int, error)
}
