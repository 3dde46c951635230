package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// deviceIn is a device as POST and PATCH read it; nil fields were not
// given. auto_logout is raw so that null (clear the override) differs from
// absent.
type deviceIn struct {
	ID                *string         `json:"id"`
	Label             *string         `json:"label"`
	MAC               *string         `json:"mac"`
	Model             *string         `json:"model"`
	Mode              *string         `json:"mode"`
	Owner             *string         `json:"owner"`
	Location          json.RawMessage `json:"location"` // raw so errors name location.<field>
	EmergencyCallback *string         `json:"emergency_callback"`
	SIPPassword       *string         `json:"sip_password"`
	AutoLogout        json.RawMessage `json:"auto_logout"`
}

// check validates the given fields in JSON order and returns the store
// update they make (MAC normalised).
func (in *deviceIn) check(create bool) (hotdesk.DeviceUpdate, error) {
	trim(in.ID, in.Label, in.MAC, in.Model, in.Mode, in.Owner, in.EmergencyCallback)
	upd := hotdesk.DeviceUpdate{Label: in.Label, Model: in.Model, Mode: in.Mode, Owner: in.Owner,
		EmergencyCallback: in.EmergencyCallback, SIPPassword: in.SIPPassword}
	if in.ID != nil && create {
		if err := validate.DeviceID("id", *in.ID); err != nil {
			return upd, err
		}
	}
	if in.Label != nil {
		if err := validate.MaxLen("label", *in.Label, 100); err != nil {
			return upd, err
		}
	}
	if in.MAC != nil {
		mac, err := validate.MAC("mac", *in.MAC)
		if err != nil {
			return upd, err
		}
		upd.MAC = &mac
	}
	if in.Model != nil {
		if err := validate.Model("model", *in.Model); err != nil {
			return upd, err
		}
	}
	if in.Mode != nil {
		if err := validate.Mode("mode", *in.Mode); err != nil {
			return upd, err
		}
	}
	if in.Owner != nil && *in.Owner != "" {
		if err := validate.Extension("owner", *in.Owner); err != nil {
			return upd, err
		}
	}
	if in.Location != nil {
		l := new(hotdesk.Location)
		if err := decodeBytes(in.Location, l); err != nil {
			return upd, withField(prefixField(err, "location"), "location")
		}
		l.Country = strings.ToUpper(strings.TrimSpace(l.Country))
		if err := checkLocation(*l); err != nil {
			return upd, err
		}
		upd.Location = l
	}
	if in.EmergencyCallback != nil {
		if err := validate.E164("emergency_callback", *in.EmergencyCallback); err != nil {
			return upd, err
		}
	}
	if in.SIPPassword != nil {
		if err := checkSIPPassword(*in.SIPPassword); err != nil {
			return upd, err
		}
	}
	if in.AutoLogout != nil {
		var p *hotdesk.AutoLogout
		if !bytes.Equal(bytes.TrimSpace(in.AutoLogout), []byte("null")) {
			p = new(hotdesk.AutoLogout)
			if err := decodeBytes(in.AutoLogout, p); err != nil {
				return upd, withField(prefixField(err, "auto_logout"), "auto_logout")
			}
			if err := first(validate.AutoLogout("auto_logout.", *p)...); err != nil {
				return upd, err
			}
		}
		upd.AutoLogout = &p
	}
	return upd, nil
}

// prefixField puts prefix. in front of an EINVALID error's field.
func prefixField(err error, prefix string) error {
	if f := hotdesk.ErrorField(err); f != "" && hotdesk.ErrorCode(err) == hotdesk.EINVALID {
		return hotdesk.Invalidf(prefix+"."+f, "%s", hotdesk.ErrorMessage(err))
	}
	return err
}

// checkMode applies the rules between fields of the device d will be: a
// personal phone has an existing owner; a hot desk phone has none.
func (a *API) checkMode(ctx context.Context, d *hotdesk.Device, create bool) error {
	switch d.Mode {
	case hotdesk.ModeHotdesk:
		d.Owner = ""
	case hotdesk.ModePersonal:
		if create && d.ID == "" {
			return hotdesk.Invalidf("id", "A personal phone needs an id (its SIP username).")
		}
		if err := validate.Owner("owner", d.Mode, d.Owner); err != nil {
			return err
		}
		if _, err := a.store.FindUser(ctx, d.Owner); hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
			return hotdesk.Invalidf("owner", "There is no user with extension %s.", d.Owner)
		} else if err != nil {
			return fmt.Errorf("find owner: %w", err)
		}
	}
	return nil
}

// contactOut is one registered contact of a device.
type contactOut struct {
	Contact   string    `json:"contact"`
	Expires   time.Time `json:"expires"`
	Source    string    `json:"source"`
	UserAgent string    `json:"user_agent"`
	Transport string    `json:"transport"`
	Node      string    `json:"node"` // the PBX node holding the phone's flow
}

// deviceOut is a device as the API writes it. SIPPassword is set only in
// the create response.
type deviceOut struct {
	ID                string              `json:"id"`
	Label             string              `json:"label"`
	MAC               string              `json:"mac"`
	Model             string              `json:"model"`
	Mode              string              `json:"mode"`
	Owner             string              `json:"owner"`
	Location          hotdesk.Location    `json:"location"`
	EmergencyCallback string              `json:"emergency_callback"`
	SIPPassword       string              `json:"sip_password,omitempty"`
	Registration      []contactOut        `json:"registration"`
	AutoLogout        *hotdesk.AutoLogout `json:"auto_logout"`  // null: the site policy applies
	LoggedIn          *string             `json:"logged_in"`    // extension, null when neutral
	LockedUntil       *time.Time          `json:"locked_until"` // PIN logins refused until; null unless locked now
	CreatedAt         time.Time           `json:"created_at"`
	UpdatedAt         time.Time           `json:"updated_at"`
}

func (a *API) deviceOut(d *hotdesk.Device, l *hotdesk.Login) deviceOut {
	o := deviceOut{ID: d.ID, Label: d.Label, MAC: d.MAC, Model: d.Model, Mode: d.Mode, Owner: d.Owner,
		Location: d.Location, EmergencyCallback: d.EmergencyCallback, Registration: []contactOut{},
		AutoLogout: d.AutoLogout, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		LockedUntil: desk.ActiveLock(d.LockedUntil, a.now())}
	if a.regs != nil {
		for _, b := range a.regs.Contacts(d.ID) {
			o.Registration = append(o.Registration, contactOut{Contact: b.Contact, Expires: b.Expires,
				Source: b.Source, UserAgent: b.UserAgent, Transport: b.Transport, Node: b.Node})
		}
	}
	if l != nil {
		o.LoggedIn = &l.Extension
	}
	return o
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	off, limit, err := paging(q, 100)
	if err != nil {
		return err
	}
	mode := q.Get("mode")
	if mode != "" && mode != hotdesk.ModeHotdesk && mode != hotdesk.ModePersonal {
		return hotdesk.Invalidf("mode", "mode must be hotdesk or personal.")
	}
	f := hotdesk.DeviceFilter{Search: strings.TrimSpace(q.Get("search")), Mode: mode, Owner: q.Get("owner"), Offset: off, Limit: limit}
	ds, total, err := a.store.FindDevices(r.Context(), f)
	if err != nil {
		return fmt.Errorf("find devices: %w", err)
	}
	byDev, err := a.loginsBy(r.Context(), func(l *hotdesk.Login) string { return l.Device })
	if err != nil {
		return err
	}
	out := make([]deviceOut, 0, len(ds))
	for _, d := range ds {
		out = append(out, a.deviceOut(d, byDev[d.ID]))
	}
	setTotal(w, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) createDevice(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var in deviceIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	upd, err := in.check(true)
	if err != nil {
		return err
	}
	d := &hotdesk.Device{ID: deref(in.ID), Model: hotdesk.ModelGeneric, Mode: hotdesk.ModeHotdesk}
	applyDevice(d, upd)
	if err := a.checkMode(ctx, d, true); err != nil {
		return err
	}
	if d.SIPPassword == "" {
		d.SIPPassword = rand.Text() // 26 base32 characters: 130 bits
	}
	if d.ProvisionToken, err = randomToken(32); err != nil {
		return err
	}
	now := a.now()
	d.CreatedAt, d.UpdatedAt = now, now
	if err := a.store.CreateDevice(ctx, d); err != nil {
		return deviceConflict(err)
	}
	a.audit(r, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: d.ID, Detail: "created"})
	o := a.deviceOut(d, nil)
	o.SIPPassword = d.SIPPassword
	w.Header().Set("Location", "/api/v1/devices/"+url.PathEscape(d.ID))
	writeJSON(w, http.StatusCreated, o)
	return nil
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

func applyDevice(d *hotdesk.Device, upd hotdesk.DeviceUpdate) {
	set(&d.Label, upd.Label)
	set(&d.MAC, upd.MAC)
	set(&d.Model, upd.Model)
	set(&d.Mode, upd.Mode)
	set(&d.Owner, upd.Owner)
	set(&d.Location, upd.Location)
	set(&d.EmergencyCallback, upd.EmergencyCallback)
	set(&d.SIPPassword, upd.SIPPassword)
	set(&d.AutoLogout, upd.AutoLogout)
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, err := a.store.FindDevice(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	l, err := optLogin(a.store.LoginByDevice(ctx, d.ID))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.deviceOut(d, l))
	return nil
}

func (a *API) patchDevice(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	var in deviceIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.ID != nil && strings.TrimSpace(*in.ID) != id {
		return hotdesk.Invalidf("id", "id cannot be changed; it is the phone's SIP username.")
	}
	upd, err := in.check(false)
	if err != nil {
		return err
	}
	cur, err := a.store.FindDevice(ctx, id)
	if err != nil {
		return err
	}
	merged := *cur
	applyDevice(&merged, upd)
	if err := a.checkMode(ctx, &merged, false); err != nil {
		return err
	}
	upd.Owner = &merged.Owner
	d, err := a.store.UpdateDevice(ctx, id, upd)
	if err != nil {
		return deviceConflict(err)
	}
	a.audit(r, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id, Detail: "updated"})
	// Only hot desk phones have logins: a phone made personal is freed.
	if d.Mode != hotdesk.ModeHotdesk {
		if _, err := a.desk.Logout(ctx, id, hotdesk.ReasonAdmin, Source); hotdesk.IgnoreNotFound(err) != nil {
			return err
		}
	}
	l, err := optLogin(a.store.LoginByDevice(ctx, id))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.deviceOut(d, l))
	return nil
}

func (a *API) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	if _, err := a.store.FindDevice(ctx, id); err != nil {
		return err
	}
	if _, err := a.desk.Logout(ctx, id, hotdesk.ReasonDeleted, Source); hotdesk.IgnoreNotFound(err) != nil {
		return err
	}
	if err := a.store.DeleteDevice(ctx, id); err != nil {
		return err
	}
	a.audit(r, &hotdesk.AuditEvent{Kind: hotdesk.KindDeviceChanged, Device: id, Reason: hotdesk.ReasonDeleted, Detail: "deleted"})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) logoutDevice(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	if _, err := a.store.FindDevice(ctx, id); err != nil {
		return err
	}
	l, err := a.desk.Logout(ctx, id, hotdesk.ReasonAdmin, Source)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "Nobody is logged in on %s.", id)
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loginJSON(l))
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

// unlockDevice lifts the lock on PIN logins from the device (audited
// "unlocked", detail "device", source "api").
func (a *API) unlockDevice(w http.ResponseWriter, r *http.Request) error {
	if err := a.desk.UnlockDevice(r.Context(), r.PathValue("id"), Source); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
