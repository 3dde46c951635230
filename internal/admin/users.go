package admin

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// UserInput is a user as a create or an update gives it; nil fields were
// not given (an update keeps them). The JSON names are the API's and the
// ones errors name.
type UserInput struct {
	Extension   *string              `json:"extension"`
	Name        *string              `json:"name"`
	Email       *string              `json:"email"`
	Hotdesk     *bool                `json:"hotdesk"`
	PIN         *string              `json:"pin"`
	CallerID    *string              `json:"caller_id"`
	DIDs        *[]string            `json:"dids"`
	Outbound    *string              `json:"outbound"`
	BLF         *[]string            `json:"blf"`
	Voicemail   *bool                `json:"voicemail"`
	RingTimeout *int                 `json:"ring_timeout"`
	SpeedDials  *[]hotdesk.SpeedDial `json:"speed_dials"`
}

// check trims and validates the given fields and returns every bad one
// (Invalid). The extension and name are required on create.
func (in *UserInput) check(create bool) error {
	trim(in.Extension, in.Name, in.Email, in.CallerID, in.Outbound)
	var errs []error
	if in.Extension != nil {
		errs = append(errs, validate.Extension("extension", *in.Extension))
	} else if create {
		errs = append(errs, hotdesk.Invalidf("extension", "extension is required."))
	}
	if in.Name != nil || create {
		errs = append(errs, validate.Name("name", deref(in.Name), true))
	}
	errs = append(errs,
		given(in.Email, "email", validate.Email),
		given(in.PIN, "pin", func(_, pin string) error { return desk.ValidatePIN(pin) }),
		given(in.CallerID, "caller_id", validate.E164),
		given(in.DIDs, "dids", validate.DIDs),
		given(in.Outbound, "outbound", validate.Outbound),
		given(in.BLF, "blf", validate.BLF),
		given(in.RingTimeout, "ring_timeout", validate.RingTimeout),
		given(in.SpeedDials, "speed_dials", checkSpeedDials))
	return collect(errs...)
}

// update is the store update for the given fields (the PIN hashed).
func (in *UserInput) update() (hotdesk.UserUpdate, error) {
	upd := hotdesk.UserUpdate{Name: in.Name, Email: in.Email, Hotdesk: in.Hotdesk, CallerID: in.CallerID,
		DIDs: in.DIDs, Outbound: in.Outbound, BLF: in.BLF, Voicemail: in.Voicemail,
		RingTimeout: in.RingTimeout, SpeedDials: in.SpeedDials}
	if in.PIN != nil {
		hash, err := desk.HashPIN(*in.PIN)
		if err != nil {
			return upd, err
		}
		upd.PINHash = &hash
	}
	return upd, nil
}

var reSpeedDial = regexp.MustCompile(`^\+?[0-9*#]{1,32}$`)

func checkSpeedDials(name string, sds []hotdesk.SpeedDial) error {
	if len(sds) > 100 {
		return hotdesk.Invalidf(name, "%s may hold at most 100 entries.", name)
	}
	for _, sd := range sds {
		if len(sd.Label) > 50 {
			return hotdesk.Invalidf(name, "A speed dial label must be at most 50 characters.")
		}
		if !reSpeedDial.MatchString(sd.Number) {
			return hotdesk.Invalidf(name, "Speed dial number %q must be digits, * or # (an optional leading +).", sd.Number)
		}
	}
	return nil
}

// CreateUser validates in and stores the new user (outbound national
// unless given), audited from source.
func (s *Service) CreateUser(ctx context.Context, source string, in UserInput) (*hotdesk.User, error) {
	if err := in.check(true); err != nil {
		return nil, err
	}
	upd, err := in.update()
	if err != nil {
		return nil, err
	}
	u := &hotdesk.User{Extension: *in.Extension, Outbound: hotdesk.OutboundNational}
	u.Apply(upd)
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, s.userConflict(ctx, err, u.Extension, true)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindUserChanged, Extension: u.Extension, Detail: "created"})
	return u, nil
}

// userConflict names the field of a uniqueness conflict: the extension
// (on create, when it exists) or else a direct number.
func (s *Service) userConflict(ctx context.Context, err error, ext string, create bool) error {
	if hotdesk.ErrorCode(err) != hotdesk.ECONFLICT || hotdesk.ErrorField(err) != "" {
		return err
	}
	if create {
		if _, ferr := s.store.FindUser(ctx, ext); ferr == nil {
			return &hotdesk.Error{Code: hotdesk.ECONFLICT, Field: "extension", Message: "Extension " + ext + " already exists."}
		}
	}
	return withField(err, "dids")
}

// UpdateUser changes the given fields of user ext. A user whose hot
// desking is switched off is logged out (through the desk rules).
func (s *Service) UpdateUser(ctx context.Context, source, ext string, in UserInput) (*hotdesk.User, error) {
	if in.Extension != nil && strings.TrimSpace(*in.Extension) != ext {
		return nil, hotdesk.Invalidf("extension", "extension cannot be changed; create a new user instead.")
	}
	in.Extension = nil
	if err := in.check(false); err != nil {
		return nil, err
	}
	upd, err := in.update()
	if err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, ext, upd)
	if err != nil {
		return nil, s.userConflict(ctx, err, ext, false)
	}
	detail := "updated"
	if upd.PINHash != nil {
		detail = "updated, pin changed"
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindUserChanged, Extension: ext, Detail: detail})
	if !u.Hotdesk {
		// Hot desking switched off: a login of the user may not stay.
		if _, err := s.desk.LogoutUser(ctx, ext, hotdesk.ReasonAdmin, source); hotdesk.IgnoreNotFound(err) != nil {
			return nil, err
		}
	}
	return u, nil
}

// DeleteUser ends the user's login and deletes the user. A user who owns
// personal phones is refused (ECONFLICT naming them) unless freePhones:
// then the phones become hot desk phones in the same transaction as the
// deletion.
func (s *Service) DeleteUser(ctx context.Context, source, ext string, freePhones bool) error {
	if _, err := s.store.FindUser(ctx, ext); err != nil {
		return err
	}
	phones, _, err := s.store.FindDevices(ctx, hotdesk.DeviceFilter{Mode: hotdesk.ModePersonal, Owner: ext})
	if err != nil {
		return fmt.Errorf("find phones: %w", err)
	}
	if len(phones) > 0 && !freePhones {
		ids := make([]string, len(phones))
		for i, d := range phones {
			ids[i] = d.ID
		}
		return &hotdesk.Error{Code: hotdesk.ECONFLICT, Field: "phones", Message: fmt.Sprintf(
			"User %s owns the personal phones %s: make them hot desk phones or delete them first.", ext, strings.Join(ids, ", "))}
	}
	// End the login through the desk rules first so the logout is audited
	// and published like any other; the store also ends it as a backstop.
	if _, err := s.desk.LogoutUser(ctx, ext, hotdesk.ReasonDeleted, source); hotdesk.IgnoreNotFound(err) != nil {
		return err
	}
	mailbox := s.mailboxSize(ctx, ext)
	var freed []string
	if freePhones {
		freed, err = s.store.DeleteUserFreeingPhones(ctx, ext)
	} else {
		err = s.store.DeleteUser(ctx, ext) // refuses phones made personal meanwhile
	}
	if err != nil {
		return err
	}
	for _, id := range freed {
		s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id,
			Detail: "updated, owner " + ext + " deleted: now a hot desk phone"})
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindUserChanged, Extension: ext, Reason: hotdesk.ReasonDeleted, Detail: "deleted"})
	s.auditMailboxDeleted(ctx, source, ext, mailbox)
	return nil
}

// PINInput asks for a PIN to be set (PIN) or generated (Generate); one of
// the two is required, so an empty request never replaces a PIN.
type PINInput struct {
	PIN      *string `json:"pin"`
	Generate bool    `json:"generate"`
}

// SetPIN sets or generates the PIN of user ext; a generated PIN is
// returned (and shown once), a set one is not.
func (s *Service) SetPIN(ctx context.Context, source, ext string, in PINInput) (generated string, err error) {
	pin := ""
	switch {
	case in.PIN != nil && in.Generate:
		return "", hotdesk.Invalidf("pin", "Give a pin or generate: true, not both.")
	case in.PIN != nil:
		if err := desk.ValidatePIN(*in.PIN); err != nil {
			return "", err
		}
		pin = *in.PIN
	case !in.Generate:
		return "", hotdesk.Invalidf("pin", "Type a PIN, or ask for one to be generated.")
	}
	return s.desk.SetPINFrom(ctx, ext, pin, source)
}

// trim trims the given strings in place.
func trim(ps ...*string) {
	for _, p := range ps {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
}

// given applies rule to field name's value when it was given (p not nil).
func given[T any](p *T, name string, rule func(name string, v T) error) error {
	if p == nil {
		return nil
	}
	return rule(name, *p)
}

// setField copies *v into *dst when v was given (not nil).
func setField[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// LogoutUser ends the login of user ext as an admin action; ENOTFOUND
// names whether the user does not exist or is not logged in.
func (s *Service) LogoutUser(ctx context.Context, source, ext string) (*hotdesk.Login, error) {
	if _, err := s.store.FindUser(ctx, ext); err != nil {
		return nil, err
	}
	l, err := s.desk.LogoutUser(ctx, ext, hotdesk.ReasonAdmin, source)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "Extension %s is not logged in.", ext)
	}
	return l, err
}
