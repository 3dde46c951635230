package hotdesk

import (
	"context"
	"time"
)

// Outbound permission levels for calls leaving the PBX.
const (
	OutboundInternal      = "internal"
	OutboundNational      = "national"
	OutboundInternational = "international"
)

// User is a person with an extension. PINHash is never serialised.
type User struct {
	Extension   string      `json:"extension"`
	Name        string      `json:"name"`
	Email       string      `json:"email"`
	Hotdesk     bool        `json:"hotdesk"`
	PINHash     string      `json:"-"`
	HasPIN      bool        `json:"has_pin"`
	CallerID    string      `json:"caller_id"` // E.164, presented on the trunk
	DIDs        []string    `json:"dids"`
	Outbound    string      `json:"outbound"`
	BLF         []string    `json:"blf"`
	SpeedDials  []SpeedDial `json:"speed_dials"`
	Voicemail   bool        `json:"voicemail"`
	RingTimeout int         `json:"ring_timeout"` // seconds; 0 means the default (30)
	LockedUntil *time.Time  `json:"locked_until,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// SpeedDial is a labelled number shown on a phone key.
type SpeedDial struct {
	Label  string `json:"label"`
	Number string `json:"number"`
}

// UserUpdate changes the non-nil fields of a user.
type UserUpdate struct {
	Name        *string
	Email       *string
	Hotdesk     *bool
	PINHash     *string
	CallerID    *string
	DIDs        *[]string
	Outbound    *string
	BLF         *[]string
	SpeedDials  *[]SpeedDial
	Voicemail   *bool
	RingTimeout *int
	LockedUntil **time.Time // set to a nil *time.Time to unlock
}

// UserFilter selects users. Zero fields do not filter.
type UserFilter struct {
	Extension string
	DID       string // user owning this DID
	Search    string // case-insensitive substring of extension, name or email
	Offset    int
	Limit     int // 0 means no limit
}

// UserStore persists users.
type UserStore interface {
	// FindUser returns ENOTFOUND if the extension does not exist.
	FindUser(ctx context.Context, ext string) (*User, error)
	// FindUsers returns matching users ordered by extension, and the total
	// count of matches ignoring Offset/Limit.
	FindUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	// CreateUser returns ECONFLICT if the extension, or one of its DIDs, exists.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser returns ENOTFOUND or ECONFLICT (DID taken).
	UpdateUser(ctx context.Context, ext string, upd UserUpdate) (*User, error)
	// DeleteUser also ends the user's login and forgets its PIN failures.
	// Returns ENOTFOUND, or ECONFLICT (field "phones") naming the personal
	// phones the user owns.
	DeleteUser(ctx context.Context, ext string) error
	// DeleteUserFreeingPhones turns the user's personal phones into hot
	// desk phones and deletes the user in one transaction; it returns the
	// ids of the phones changed.
	DeleteUserFreeingPhones(ctx context.Context, ext string) ([]string, error)
}

// Apply copies the non-nil fields of upd into u (HasPIN follows PINHash),
// as a store's UpdateUser does.
func (u *User) Apply(upd UserUpdate) {
	set(&u.Name, upd.Name)
	set(&u.Email, upd.Email)
	set(&u.Hotdesk, upd.Hotdesk)
	set(&u.PINHash, upd.PINHash)
	set(&u.CallerID, upd.CallerID)
	set(&u.DIDs, upd.DIDs)
	set(&u.Outbound, upd.Outbound)
	set(&u.BLF, upd.BLF)
	set(&u.SpeedDials, upd.SpeedDials)
	set(&u.Voicemail, upd.Voicemail)
	set(&u.RingTimeout, upd.RingTimeout)
	set(&u.LockedUntil, upd.LockedUntil)
	u.HasPIN = u.PINHash != ""
}

// set assigns *src to *dst when src is not nil.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}
