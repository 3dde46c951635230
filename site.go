package hotdesk

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Site is one place the organisation works from (issue 16): its civic
// address, the networks its phones register from, and how its emergency
// calls go out. A desk phone belongs to at most one site.
type Site struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	Location Location `json:"location"` // civic address; a desk's own fields (floor, room, seat) refine it
	// Networks are the IP prefixes (CIDR) phones on the site register
	// from; a phone registering from elsewhere is flagged as moved.
	Networks []string `json:"networks"`
	// Trunk names the entry of Settings.Trunks emergency calls from the
	// site go out through; "" is the default trunk (Settings.Trunk).
	Trunk string `json:"trunk"`
	// Callback is the E.164 number sent as caller ID (and called back by
	// the PSAP) for emergency calls from the site's phones when nobody
	// is logged in and the desk has no callback of its own.
	Callback string `json:"callback"`
	// Devices are the ids of the site's phones.
	Devices   []string  `json:"devices"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SiteStore persists sites and which devices belong to them.
type SiteStore interface {
	// CreateSite assigns s.ID. Returns ECONFLICT if the name exists and
	// ENOTFOUND if one of s.Devices does not exist. A device listed here
	// leaves the site it was in.
	CreateSite(ctx context.Context, s *Site) error
	// FindSite returns ENOTFOUND if the site does not exist.
	FindSite(ctx context.Context, id int64) (*Site, error)
	// ListSites returns every site by name.
	ListSites(ctx context.Context) ([]*Site, error)
	// UpdateSite rewrites every field of s (devices included). Returns
	// ENOTFOUND or ECONFLICT as CreateSite.
	UpdateSite(ctx context.Context, s *Site) error
	// DeleteSite deletes the site; its devices belong to none after.
	DeleteSite(ctx context.Context, id int64) error
	// SiteOfDevice returns the site a device belongs to, or ENOTFOUND.
	SiteOfDevice(ctx context.Context, device string) (*Site, error)
}

// EmergencyCall is the record of one emergency call (or test call): what
// was sent to the PSAP, and who acknowledged the on-site alert.
type EmergencyCall struct {
	ID        int64      `json:"id"`
	Time      time.Time  `json:"time"`
	Device    string     `json:"device"`
	Extension string     `json:"extension,omitempty"` // user logged in, "" on a neutral phone
	Name      string     `json:"name,omitempty"`      // user's name or the desk's label
	Number    string     `json:"number"`              // dialled
	Callback  string     `json:"callback"`            // caller ID sent: the number the PSAP calls back
	Site      int64      `json:"site,omitempty"`      // site whose address and trunk were used, 0 = none
	Trunk     string     `json:"trunk,omitempty"`     // trunk used ("" default)
	Location  Location   `json:"location"`            // address sent as PIDF-LO
	Warning   string     `json:"warning,omitempty"`   // e.g. phone moved, address unknown
	Test      bool       `json:"test"`                // test number: no PSAP reached
	AckedAt   *time.Time `json:"acked_at,omitempty"`
	AckedBy   string     `json:"acked_by,omitempty"`  // extension or admin name
	AckedVia  string     `json:"acked_via,omitempty"` // "phone" or "console"
}

// EmergencyCallFilter selects emergency call records, newest first.
type EmergencyCallFilter struct {
	Callback string    // only calls that sent this callback number
	Device   string    // only calls from this device
	Since    time.Time // only calls at or after
	Unacked  bool      // only calls nobody acknowledged yet
	Test     *bool     // only test calls (true) or real ones (false)
	Limit    int       // 0 means 100
}

// EmergencyStore persists emergency call records.
type EmergencyStore interface {
	// CreateEmergencyCall stores c and assigns c.ID.
	CreateEmergencyCall(ctx context.Context, c *EmergencyCall) error
	FindEmergencyCalls(ctx context.Context, f EmergencyCallFilter) ([]*EmergencyCall, error)
	// AckEmergencyCall records the first acknowledgement and returns the
	// record and true; a later one changes nothing and returns the record
	// with the first and false. Returns ENOTFOUND if there is no such call.
	AckEmergencyCall(ctx context.Context, id int64, by, via string, at time.Time) (*EmergencyCall, bool, error)
	// LastEmergencyTests returns, per device, when it last made a test
	// call.
	LastEmergencyTests(ctx context.Context) (map[string]time.Time, error)
}

// Audit kinds of issue 16.
const (
	KindSiteChanged          = "site_changed"           // a site was created, changed or deleted
	KindPhoneMoved           = "phone_moved"            // a phone registered from a network not its site's
	KindEmergencyAck         = "emergency_ack"          // an on-site alert was acknowledged
	KindEmergencyAlertFailed = "emergency_alert_failed" // an alert could not be placed
)

// EmergencyCallPrefix starts the detail of the audit rows of an emergency
// call and of its alert (emergency_call, emergency_ack, …), followed by
// the call record's id.
const EmergencyCallPrefix = "emergency call "

// AckDetail is the detail of an emergency_ack audit row.
func AckDetail(id int64, by, via string) string {
	return fmt.Sprintf("%s%d acknowledged by %s via %s", EmergencyCallPrefix, id, by, via)
}

// AckedCallID reads the call record id back from an emergency_ack detail.
func AckedCallID(detail string) (int64, bool) {
	rest, ok := strings.CutPrefix(detail, EmergencyCallPrefix)
	if !ok {
		return 0, false
	}
	num, _, _ := strings.Cut(rest, " ")
	id, err := strconv.ParseInt(strings.TrimSuffix(num, ":"), 10, 64)
	return id, err == nil && id > 0
}
