package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// deviceIn is a device as POST and PATCH read it; nil fields were not
// given. auto_logout is raw so that null (clear the override) differs from
// absent; location is raw so errors name location.<field>.
type deviceIn struct {
	ID                *string         `json:"id"`
	Label             *string         `json:"label"`
	MAC               *string         `json:"mac"`
	Model             *string         `json:"model"`
	Mode              *string         `json:"mode"`
	Owner             *string         `json:"owner"`
	Location          json.RawMessage `json:"location"`
	EmergencyCallback *string         `json:"emergency_callback"`
	SIPPassword       *string         `json:"sip_password"`
	AutoLogout        json.RawMessage `json:"auto_logout"`
	SIPTransport      *string         `json:"sip_transport"`
	SRTP              *string         `json:"srtp"`
}

// input decodes the raw parts and returns the service's input.
func (in *deviceIn) input() (admin.DeviceInput, error) {
	out := admin.DeviceInput{ID: in.ID, Label: in.Label, MAC: in.MAC, Model: in.Model, Mode: in.Mode, Owner: in.Owner,
		EmergencyCallback: in.EmergencyCallback, SIPPassword: in.SIPPassword, SIPTransport: in.SIPTransport, SRTP: in.SRTP}
	if in.Location != nil {
		out.Location = new(hotdesk.Location)
		if err := decodeBytes(in.Location, out.Location); err != nil {
			return out, admin.WithField(prefixField(err, "location"), "location")
		}
	}
	if in.AutoLogout != nil {
		var p *hotdesk.AutoLogout
		if !bytes.Equal(bytes.TrimSpace(in.AutoLogout), []byte("null")) {
			p = new(hotdesk.AutoLogout)
			if err := decodeBytes(in.AutoLogout, p); err != nil {
				return out, admin.WithField(prefixField(err, "auto_logout"), "auto_logout")
			}
		}
		out.AutoLogout = &p
	}
	return out, nil
}

// prefixField puts prefix. in front of an EINVALID error's field.
func prefixField(err error, prefix string) error {
	if f := hotdesk.ErrorField(err); f != "" && hotdesk.ErrorCode(err) == hotdesk.EINVALID {
		return hotdesk.Invalidf(prefix+"."+f, "%s", hotdesk.ErrorMessage(err))
	}
	return err
}

// contactOut is one registered contact of a device.
type contactOut struct {
	Contact   string    `json:"contact"`
	Expires   time.Time `json:"expires"`
	Source    string    `json:"source"`
	UserAgent string    `json:"user_agent"`
	Transport string    `json:"transport"`
	Node      string    `json:"node"` // the PBX node holding the phone's flow
	// NAT: the phone is behind NAT (its Contact or Via is not Source):
	// requests go to Source and it gets keep-alives (issue 15).
	NAT bool `json:"nat"`
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
	SIPTransport      string              `json:"sip_transport"` // "" = the site's tls.phone_transport
	SRTP              string              `json:"srtp"`          // off, optional, required; "" = optional
}

func (a *API) deviceOut(d *hotdesk.Device, l *hotdesk.Login) deviceOut {
	o := deviceOut{ID: d.ID, Label: d.Label, MAC: d.MAC, Model: d.Model, Mode: d.Mode, Owner: d.Owner,
		Location: d.Location, EmergencyCallback: d.EmergencyCallback, Registration: []contactOut{},
		AutoLogout: d.AutoLogout, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, SIPTransport: d.SIPTransport, SRTP: d.SRTP,
		LockedUntil: desk.ActiveLock(d.LockedUntil, a.now())}
	if a.regs != nil {
		for _, b := range a.regs.Contacts(d.ID) {
			o.Registration = append(o.Registration, contactOut{Contact: b.Contact, Expires: b.Expires,
				Source: b.Source, UserAgent: b.UserAgent, Transport: b.Transport, Node: b.Node, NAT: b.NAT})
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
	f := hotdesk.DeviceFilter{Search: searchParam(q), Mode: mode, Owner: q.Get("owner"), Offset: off, Limit: limit}
	ds, total, err := a.store.FindDevices(r.Context(), f)
	if err != nil {
		return fmt.Errorf("find devices: %w", err)
	}
	return writeList(a, w, r, ds, total, func(l *hotdesk.Login) string { return l.Device },
		func(d *hotdesk.Device) string { return d.ID }, a.deviceOut)
}

func (a *API) createDevice(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeDevice(w, r)
	if err != nil {
		return err
	}
	d, err := a.admin.CreateDevice(r.Context(), Source, in)
	if err != nil {
		return err
	}
	o := a.deviceOut(d, nil)
	o.SIPPassword = d.SIPPassword
	return created(w, "/api/v1/devices/"+url.PathEscape(d.ID), o)
}

// decodeDevice reads the device of a POST or PATCH body.
func decodeDevice(w http.ResponseWriter, r *http.Request) (admin.DeviceInput, error) {
	var raw deviceIn
	if _, err := decode(w, r, &raw, false); err != nil {
		return admin.DeviceInput{}, err
	}
	return raw.input()
}

func (a *API) getDevice(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	d, err := a.store.FindDevice(ctx, id)
	return withLogin(w, d, err, func() (*hotdesk.Login, error) { return a.store.LoginByDevice(ctx, id) }, a.deviceOut)
}

func (a *API) patchDevice(w http.ResponseWriter, r *http.Request) error {
	ctx, id := r.Context(), r.PathValue("id")
	in, err := decodeDevice(w, r)
	if err != nil {
		return err
	}
	d, err := a.admin.UpdateDevice(ctx, Source, id, in)
	return withLogin(w, d, err, func() (*hotdesk.Login, error) { return a.store.LoginByDevice(ctx, id) }, a.deviceOut)
}

func (a *API) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.admin.DeleteDevice(r.Context(), Source, r.PathValue("id")))
}

func (a *API) logoutDevice(w http.ResponseWriter, r *http.Request) error {
	l, err := a.admin.LogoutDevice(r.Context(), Source, r.PathValue("id"))
	return writeOr(w, http.StatusOK, loginJSON, l, err)
}

// unlockDevice lifts the lock on PIN logins from the device (audited
// "unlocked", detail "device", source "api").
func (a *API) unlockDevice(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.desk.UnlockDevice(r.Context(), r.PathValue("id"), Source))
}
