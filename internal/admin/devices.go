package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// DeviceInput is a device as a create or an update gives it; nil fields
// were not given. AutoLogout non-nil holding nil clears the override (the
// site policy applies).
type DeviceInput struct {
	ID                *string
	Label             *string
	MAC               *string
	Model             *string
	Mode              *string
	Owner             *string
	Location          *hotdesk.Location
	EmergencyCallback *string
	SIPPassword       *string
	AutoLogout        **hotdesk.AutoLogout
	SIPTransport      *string // udp, tcp, tls or "" (the site's)
	SRTP              *string // off, optional or required ("" = optional)
}

// check validates the given fields and returns every bad one (Invalid)
// and the store update they make (MAC normalised).
func (in *DeviceInput) check(create bool) (hotdesk.DeviceUpdate, error) {
	trim(in.ID, in.Label, in.MAC, in.Model, in.Mode, in.Owner, in.EmergencyCallback, in.SIPTransport, in.SRTP)
	upd := hotdesk.DeviceUpdate{Label: in.Label, Model: in.Model, Mode: in.Mode, Owner: in.Owner,
		EmergencyCallback: in.EmergencyCallback, SIPPassword: in.SIPPassword, AutoLogout: in.AutoLogout,
		SIPTransport: in.SIPTransport, SRTP: in.SRTP}
	var errs []error
	if in.ID != nil && create {
		errs = append(errs, validate.DeviceID("id", *in.ID))
	}
	errs = append(errs, given(in.Label, "label", func(name, v string) error { return validate.MaxLen(name, v, 100) }))
	if in.MAC != nil {
		mac, err := validate.MAC("mac", *in.MAC)
		errs = append(errs, err)
		upd.MAC = &mac
	}
	errs = append(errs, given(in.Model, "model", validate.Model), given(in.Mode, "mode", validate.Mode))
	if in.Owner != nil && *in.Owner != "" {
		errs = append(errs, validate.Extension("owner", *in.Owner))
	}
	if in.Location != nil {
		l := *in.Location
		l.Country = strings.ToUpper(strings.TrimSpace(l.Country))
		trim(&l.Text, &l.A1, &l.A3, &l.Street, &l.HouseNo, &l.Postcode, &l.Building, &l.Floor, &l.Room, &l.Seat)
		errs = append(errs, checkLocation(l)...)
		upd.Location = &l
	}
	errs = append(errs,
		given(in.EmergencyCallback, "emergency_callback", validate.E164),
		given(in.SIPTransport, "sip_transport", validate.SIPTransport),
		given(in.SRTP, "srtp", validate.SRTP),
		given(in.SIPPassword, "sip_password", checkSIPPassword))
	if in.AutoLogout != nil && *in.AutoLogout != nil {
		errs = append(errs, validate.AutoLogout("auto_logout.", **in.AutoLogout)...)
	}
	return upd, collect(errs...)
}

func checkLocation(l hotdesk.Location) []error {
	errs := []error{validate.Country("location.country", l.Country)}
	for _, f := range []struct{ name, v string }{{"text", l.Text}, {"a1", l.A1}, {"a3", l.A3}, {"street", l.Street},
		{"house_no", l.HouseNo}, {"postcode", l.Postcode}, {"building", l.Building}, {"floor", l.Floor},
		{"room", l.Room}, {"seat", l.Seat}} {
		errs = append(errs, validate.MaxLen("location."+f.name, f.v, 200))
	}
	return errs
}

// checkSIPPassword requires a password a phone can hold and an attacker
// cannot guess: 12 to 128 printable ASCII characters without spaces.
func checkSIPPassword(name, v string) error {
	if len(v) < 12 || len(v) > 128 {
		return hotdesk.Invalidf(name, "%s must be 12 to 128 characters (leave it out to generate one).", name)
	}
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return hotdesk.Invalidf(name, "%s may hold printable ASCII characters only, no spaces.", name)
		}
	}
	return nil
}

// checkMode applies the rules between fields of the device d will be: a
// personal phone has an id and an existing owner; a hot desk phone has
// none.
func (s *Service) checkMode(ctx context.Context, d *hotdesk.Device, create bool) error {
	switch d.Mode {
	case hotdesk.ModeHotdesk:
		d.Owner = ""
	case hotdesk.ModePersonal:
		var errs []error
		if create && d.ID == "" {
			errs = append(errs, hotdesk.Invalidf("id", "A personal phone needs an id (its SIP username)."))
		}
		if err := validate.Owner("owner", d.Mode, d.Owner); err != nil {
			return collect(append(errs, err)...)
		}
		if _, err := s.store.FindUser(ctx, d.Owner); hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
			errs = append(errs, hotdesk.Invalidf("owner", "There is no user with extension %s.", d.Owner))
		} else if err != nil {
			return fmt.Errorf("find owner: %w", err)
		}
		return collect(errs...)
	}
	return nil
}

// CreateDevice validates in and stores the new device (a hot desk phone
// of the generic model unless given) with a random SIP password unless
// given and a provisioning token. The returned device holds the password:
// show it once.
func (s *Service) CreateDevice(ctx context.Context, source string, in DeviceInput) (*hotdesk.Device, error) {
	upd, err := in.check(true)
	d := &hotdesk.Device{ID: deref(in.ID), Model: hotdesk.ModelGeneric, Mode: hotdesk.ModeHotdesk}
	d.Apply(upd)
	if merr := s.checkMode(ctx, d, true); merr != nil {
		err = collect(err, merr)
	}
	if err != nil {
		return nil, err
	}
	if d.SIPPassword == "" {
		d.SIPPassword = rand.Text() // 26 base32 characters: 130 bits
	}
	if d.ProvisionToken, err = randomToken(32); err != nil {
		return nil, err
	}
	now := s.now()
	d.CreatedAt, d.UpdatedAt = now, now
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return nil, deviceConflict(err)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: d.ID, Detail: "created"})
	return d, nil
}

// deviceConflict names the field of a uniqueness conflict (MAC or id).
func deviceConflict(err error) error {
	if hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
		return err
	}
	if strings.HasPrefix(hotdesk.ErrorMessage(err), "MAC") {
		return withField(err, "mac")
	}
	return withField(err, "id")
}

// UpdateDevice changes the given fields of device id. Only hot desk
// phones have logins: a phone made personal is logged out (desk rules).
func (s *Service) UpdateDevice(ctx context.Context, source, id string, in DeviceInput) (*hotdesk.Device, error) {
	if in.ID != nil && strings.TrimSpace(*in.ID) != id {
		return nil, hotdesk.Invalidf("id", "id cannot be changed; it is the phone's SIP username.")
	}
	upd, err := in.check(false)
	cur, ferr := s.store.FindDevice(ctx, id)
	if ferr != nil {
		return nil, ferr
	}
	merged := *cur
	merged.Apply(upd)
	if merr := s.checkMode(ctx, &merged, false); merr != nil {
		err = collect(err, merr)
	}
	if err != nil {
		return nil, err
	}
	upd.Owner = &merged.Owner
	d, err := s.store.UpdateDevice(ctx, id, upd)
	if err != nil {
		return nil, deviceConflict(err)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id, Detail: "updated"})
	if d.Mode != hotdesk.ModeHotdesk {
		if _, err := s.desk.Logout(ctx, id, hotdesk.ReasonAdmin, source); hotdesk.IgnoreNotFound(err) != nil {
			return nil, err
		}
	}
	return d, nil
}

// DeleteDevice ends the device's login (desk rules) and deletes it.
func (s *Service) DeleteDevice(ctx context.Context, source, id string) error {
	if _, err := s.store.FindDevice(ctx, id); err != nil {
		return err
	}
	if _, err := s.desk.Logout(ctx, id, hotdesk.ReasonDeleted, source); hotdesk.IgnoreNotFound(err) != nil {
		return err
	}
	if err := s.store.DeleteDevice(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id, Reason: hotdesk.ReasonDeleted, Detail: "deleted"})
	return nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// LogoutDevice ends the login on device id as an admin action; ENOTFOUND
// names whether the device does not exist or nobody is logged in on it.
func (s *Service) LogoutDevice(ctx context.Context, source, id string) (*hotdesk.Login, error) {
	if _, err := s.store.FindDevice(ctx, id); err != nil {
		return nil, err
	}
	l, err := s.desk.Logout(ctx, id, hotdesk.ReasonAdmin, source)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "Nobody is logged in on %s.", id)
	}
	return l, err
}
