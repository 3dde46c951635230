package hotdesk

import (
	"context"
	"time"
)

// Call directions as seen from the user.
const (
	DirectionInbound  = "inbound"  // the user was called
	DirectionOutbound = "outbound" // the user called
)

// Call results.
const (
	ResultAnswered  = "answered"
	ResultBusy      = "busy"
	ResultNoAnswer  = "no_answer"
	ResultCancelled = "cancelled"
	ResultRejected  = "rejected"
	ResultFailed    = "failed"
	ResultNoMedia   = "no_media" // an anchored call ended for lack of media (issue 15)
)

// CallRecord is one call leg from one user's point of view. Records belong to
// users, not devices: the device used is only a detail.
type CallRecord struct {
	ID        int64      `json:"id"`
	CallID    string     `json:"call_id"`
	Extension string     `json:"extension"`
	Direction string     `json:"direction"`
	Peer      string     `json:"peer"` // the other party's number
	Device    string     `json:"device"`
	Start     time.Time  `json:"start"`
	Answer    *time.Time `json:"answer,omitempty"`
	End       *time.Time `json:"end,omitempty"`
	Result    string     `json:"result"`
	Emergency bool       `json:"emergency,omitempty"`
}

// CallStore persists call records.
type CallStore interface {
	// CreateCall assigns c.ID.
	CreateCall(ctx context.Context, c *CallRecord) error
	// UpdateCall rewrites Answer, End and Result by ID.
	UpdateCall(ctx context.Context, c *CallRecord) error
	// FindCalls returns the user's calls, newest first.
	FindCalls(ctx context.Context, ext string, limit int) ([]*CallRecord, error)
}
