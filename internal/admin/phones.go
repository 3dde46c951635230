package admin

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/hotdesk-pbx/hotdesk"
)

// Phones sends NOTIFYs to a device's registered contacts (checksync).
type Phones interface {
	// Signal sends a NOTIFY with the Event header event to every
	// registered contact of device and returns how many it started.
	Signal(ctx context.Context, device, event string) int
}

// Phone actions an admin can take on a phone (issue 17 item 7), with the
// Event header each sends.
const (
	ActionCheckSync   = "check-sync"  // the phone's own policy: re-fetch, reboot if it must
	ActionReprovision = "reprovision" // re-fetch the configuration now, no reboot
	ActionReboot      = "reboot"
)

var actionEvents = map[string]string{
	ActionCheckSync:   "check-sync",
	ActionReprovision: "check-sync;reboot=false",
	ActionReboot:      "check-sync;reboot=true",
}

// PhoneAction sends the action's NOTIFY to every registered contact of
// device id and audits it (device_changed, reason the action). It returns
// how many contacts it was sent to: 0 for a phone that is not registered.
// Errors: ENOTFOUND, EINVALID (field action).
func (s *Service) PhoneAction(ctx context.Context, source, id, action string) (int, error) {
	event, ok := actionEvents[action]
	if !ok {
		return 0, hotdesk.Invalidf("action", "Unknown phone action %q: use check-sync, reprovision or reboot.", action)
	}
	if _, err := s.store.FindDevice(ctx, id); err != nil {
		return 0, err
	}
	n := 0
	if s.phones != nil {
		n = s.phones.Signal(ctx, id, event)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id, Reason: action,
		Detail: fmt.Sprintf("sent %q to %d contacts", event, n)})
	return n, nil
}

// ResetSIPPassword gives device id a new random SIP password and returns
// it: the only time it is shown. The phone keeps its registration until
// it next authenticates; it then needs the new password (typed in, or by
// provisioning through its token URL). Audited without the password.
// Errors: ENOTFOUND.
func (s *Service) ResetSIPPassword(ctx context.Context, source, id string) (string, error) {
	pw := rand.Text() // 26 base32 characters: 130 bits, as a new device gets
	if _, err := s.store.UpdateDevice(ctx, id, hotdesk.DeviceUpdate{SIPPassword: &pw}); err != nil {
		return "", err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id, Reason: "sip_password",
		Detail: "SIP password reset"})
	return pw, nil
}
