package hotdesk

import "context"

// Bulk is a set of user and device changes applied all or nothing (a CSV
// import, issue 17 item 11).
type Bulk struct {
	CreateUsers   []*User
	UpdateUsers   []BulkUserUpdate
	CreateDevices []*Device // an empty ID of a hot desk phone gets the next HD id
	UpdateDevices []BulkDeviceUpdate
}

// BulkUserUpdate changes one existing user.
type BulkUserUpdate struct {
	Extension string
	Update    UserUpdate
}

// BulkDeviceUpdate changes one existing device.
type BulkDeviceUpdate struct {
	ID     string
	Update DeviceUpdate
}

// BulkStore applies a Bulk in one transaction.
type BulkStore interface {
	// ApplyBulk creates users first, then devices (whose owners may be
	// among the new users), then updates, in one transaction: on any error
	// nothing is changed. Errors are those of the single operations
	// (ECONFLICT, ENOTFOUND, EINVALID).
	ApplyBulk(ctx context.Context, b Bulk) error
}
