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
	// NAT: the phone is behind NAT (its Contact or Via address is not
	// Source), so requests go to Source and it gets keep-alives.
	NAT bool `json:"nat"`
	// Instance and RegID are the Contact's +sip.instance and reg-id (RFC
	// 5626 outbound; "" and 0 when not given): a REGISTER with the same
	// pair replaces the binding whatever its Contact.
	Instance string `json:"instance,omitempty"`
	RegID    int    `json:"reg_id,omitempty"`
	// Stale: the node holding it went silent; the phone counts as
	// unregistered until it registers again (listings leave these out).
	Stale bool `json:"-"`
}

// BindingStore persists registrations so they survive restarts and every
// node sees them. A binding belongs to the node holding the phone's flow:
// rows are keyed by (Device, Contact, Node), so a node writes and deletes only
// its own and a phone that moved to another node is not unregistered there
// by the old node's expiry.
type BindingStore interface {
	// PutBindings upserts bindings keyed by (Device, Contact, Node) in one
	// transaction; a stale row written again is live again.
	PutBindings(ctx context.Context, bs []Binding) error
	// DeleteBindings removes the (Device, Contact, Node) rows given.
	DeleteBindings(ctx context.Context, bs []Binding) error
	// ListBindings returns all nodes' bindings that have not expired at now
	// and are not stale.
	ListBindings(ctx context.Context, now time.Time) ([]Binding, error)
	// DeviceBindings returns the device's unexpired, non-stale bindings on
	// every node.
	DeviceBindings(ctx context.Context, device string, now time.Time) ([]Binding, error)
	// DeleteExpiredBindings removes the node's bindings ("" = every node's)
	// that expired at or before now, and returns them.
	DeleteExpiredBindings(ctx context.Context, node string, now time.Time) ([]Binding, error)
}

// Node is one PBX process sharing the database with others.
type Node struct {
	Name      string    `json:"name"`
	Address   string    `json:"address"` // host:port of its SIP listener for the other nodes
	Instance  string    `json:"-"`       // random per process
	Started   time.Time `json:"started"`
	Heartbeat time.Time `json:"heartbeat"`
}

// NodeStore keeps the nodes of a multi-node site (PostgreSQL; SQLite
// implements it too, for one node).
type NodeStore interface {
	// ClaimNode records n as running. It fails with ECONFLICT, naming the
	// other process, when a node of that name with another Instance sent a
	// heartbeat after aliveAfter.
	ClaimNode(ctx context.Context, n Node, aliveAfter time.Time) error
	// ReleaseNode gives the name up at a clean stop: another process may
	// claim it at once (the heartbeat stays, so the node's bindings are not
	// taken for lost before the timeout). No-op unless instance holds it.
	ReleaseNode(ctx context.Context, name, instance string) error
	// NodeHeartbeat stamps the node's heartbeat; ENOTFOUND when the row is
	// gone or now belongs to another instance.
	NodeHeartbeat(ctx context.Context, name, instance string, at time.Time) error
	// ListNodes returns every node, by name.
	ListNodes(ctx context.Context) ([]Node, error)
	// NodeSecret returns the site's node secret, storing propose when there
	// is none yet (insert-if-absent: of several proposals one wins).
	NodeSecret(ctx context.Context, propose string) (string, error)
	// MarkNodeStale marks every live binding of node (expired or not) as
	// stale and appends, in the same transaction, a copy of audit (Device
	// and Source filled in) per device left with no live binding on any
	// node at audit.Time. It returns the marked bindings of those devices;
	// a second caller finds none.
	MarkNodeStale(ctx context.Context, node string, audit AuditEvent) ([]Binding, error)
	// ReviveNodeBindings is for a node back after it was declared lost: in
	// one transaction it deletes the node's unexpired stale bindings of
	// devices with a live binding on another node at audit.Time (the phone
	// moved there and stays) and those keep (nil: all) rejects, makes the
	// others live again, and appends a copy of audit (Device and Source
	// filled in) per device made live. It returns the bindings made live
	// and those deleted.
	ReviveNodeBindings(ctx context.Context, node string, keep func(Binding) bool, audit AuditEvent) (live, gone []Binding, err error)
}
