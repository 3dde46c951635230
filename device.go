package hotdesk

import (
	"context"
	"time"
)

// Device modes.
const (
	ModeHotdesk  = "hotdesk"  // shared phone, neutral when nobody is logged in
	ModePersonal = "personal" // a fixed phone or softphone of one user (Owner)
)

// Device models used for provisioning.
const (
	ModelSnom        = "snom"
	ModelYealink     = "yealink"
	ModelGrandstream = "grandstream"
	ModelGeneric     = "generic"
)

// Location is where a device stands: free text for people, and a structured
// civic address (RFC 5139 element names) for emergency calls.
type Location struct {
	Text     string `json:"text"`
	Country  string `json:"country"`  // ISO 3166 alpha-2, e.g. "NL"
	A1       string `json:"a1"`       // state / province
	A3       string `json:"a3"`       // city
	Street   string `json:"street"`   // RD (road)
	HouseNo  string `json:"house_no"` // HNO
	Postcode string `json:"postcode"` // PC
	Building string `json:"building"` // BLD
	Floor    string `json:"floor"`    // FLR
	Room     string `json:"room"`     // ROOM
	Seat     string `json:"seat"`     // SEAT (desk)
}

// AutoLogout is an auto-logout policy. Zero fields are off.
type AutoLogout struct {
	DailyAt     string `json:"daily_at"`     // "HH:MM" in the site's time zone, "" = off
	MaxDuration string `json:"max_duration"` // Go duration, e.g. "12h", "" = off
	IdleTimeout string `json:"idle_timeout"` // Go duration, "" = off
	// LostRegistration logs the user out when the device's registration has
	// been gone this long ("" = off).
	LostRegistration string `json:"lost_registration"`
}

// Device is a SIP account: a desk phone or a softphone.
type Device struct {
	ID                string      `json:"id"` // SIP username
	Label             string      `json:"label"`
	MAC               string      `json:"mac"` // 12 lower-case hex digits or ""
	Model             string      `json:"model"`
	Mode              string      `json:"mode"`
	Owner             string      `json:"owner"` // extension, for personal devices
	Location          Location    `json:"location"`
	EmergencyCallback string      `json:"emergency_callback"`
	SIPPassword       string      `json:"-"`                     // needed for provisioning; never listed
	ProvisionToken    string      `json:"-"`                     // long random token for token-path provisioning
	AutoLogout        *AutoLogout `json:"auto_logout,omitempty"` // per-device override
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
	// LockedUntil is set while hot-desk PIN logins from this device are
	// locked after too many wrong PINs.
	LockedUntil *time.Time `json:"locked_until"`
	// SIPTransport is the transport provisioned to the phone: "udp",
	// "tcp", "tls", or "" for the site's TLSSettings.PhoneTransport.
	SIPTransport string `json:"sip_transport"`
	// SRTP is the device's SRTP policy on TLS-signalled calls: SRTPOff,
	// SRTPOptional ("" too) or SRTPRequired.
	SRTP string `json:"srtp"`
}

// SRTP policies of a device (Device.SRTP).
const (
	SRTPOff      = "off"      // never offer or accept SRTP
	SRTPOptional = "optional" // SRTP when the phone offers it over TLS, else RTP
	SRTPRequired = "required" // SRTP over TLS only; anything else gets 488
)

// DeviceUpdate changes the non-nil fields of a device.
type DeviceUpdate struct {
	Label             *string
	MAC               *string
	Model             *string
	Mode              *string
	Owner             *string
	Location          *Location
	EmergencyCallback *string
	SIPPassword       *string
	ProvisionToken    *string
	AutoLogout        **AutoLogout
	LockedUntil       **time.Time
	SIPTransport      *string
	SRTP              *string
}

// DeviceFilter selects devices. Zero fields do not filter.
type DeviceFilter struct {
	ID     string
	MAC    string
	Mode   string
	Owner  string
	Search string // substring of id, label or location text
	Offset int
	Limit  int
}

// DeviceStore persists devices.
type DeviceStore interface {
	// FindDevice returns ENOTFOUND if the id does not exist.
	FindDevice(ctx context.Context, id string) (*Device, error)
	FindDevices(ctx context.Context, f DeviceFilter) ([]*Device, int, error)
	// CreateDevice assigns the next HD00001-style id when d.ID is empty and
	// d.Mode is hotdesk. Returns ECONFLICT if the id or MAC exists.
	CreateDevice(ctx context.Context, d *Device) error
	UpdateDevice(ctx context.Context, id string, upd DeviceUpdate) (*Device, error)
	// DeleteDevice also ends its login and removes its bindings and PIN
	// failures.
	DeleteDevice(ctx context.Context, id string) error
}

// Apply copies the non-nil fields of upd into d, as a store's
// UpdateDevice does.
func (d *Device) Apply(upd DeviceUpdate) {
	set(&d.Label, upd.Label)
	set(&d.MAC, upd.MAC)
	set(&d.Model, upd.Model)
	set(&d.Mode, upd.Mode)
	set(&d.Owner, upd.Owner)
	set(&d.Location, upd.Location)
	set(&d.EmergencyCallback, upd.EmergencyCallback)
	set(&d.SIPPassword, upd.SIPPassword)
	set(&d.ProvisionToken, upd.ProvisionToken)
	set(&d.AutoLogout, upd.AutoLogout)
	set(&d.LockedUntil, upd.LockedUntil)
	set(&d.SIPTransport, upd.SIPTransport)
	set(&d.SRTP, upd.SRTP)
}
