package hotdesk

import (
	"context"
	"time"
)

// CallFilter selects call records for the call log, newest first. Zero
// fields do not filter.
type CallFilter struct {
	Extension string
	Device    string
	Result    string
	Since     time.Time // start at or after
	Until     time.Time // start before
	Offset    int
	Limit     int // 0 means 100
}

// CallLogStore reads the call records of every user (issue 17 item 9).
type CallLogStore interface {
	// FindCallLog returns the matching records, newest first, and how many
	// match in all.
	FindCallLog(ctx context.Context, f CallFilter) ([]*CallRecord, int, error)
}
