package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// loginOut is a login as the API writes it.
type loginOut struct {
	Extension string     `json:"extension"`
	Device    string     `json:"device"`
	Since     time.Time  `json:"since"`
	Via       string     `json:"via"`
	EndsAt    *time.Time `json:"ends_at"`          // earliest auto-logout, null if none
	Policy    string     `json:"policy,omitempty"` // the policy behind ends_at
}

func loginJSON(l *hotdesk.Login) loginOut {
	return loginOut{Extension: l.Extension, Device: l.Device, Since: l.Since, Via: l.Via, EndsAt: l.EndsAt, Policy: l.Policy}
}

// endedOut is a login ended as a side effect of a new one.
type endedOut struct {
	loginOut
	Reason string `json:"reason"` // roamed or replaced
}

// createdLogin is the answer to POST /logins: the new login and the
// logins it ended.
type createdLogin struct {
	loginOut
	Ended []endedOut `json:"ended"`
}

func (a *API) listLogins(w http.ResponseWriter, r *http.Request) error {
	ls, err := a.store.ListLogins(r.Context())
	if err != nil {
		return fmt.Errorf("list logins: %w", err)
	}
	writeJSON(w, http.StatusOK, loginsJSON(ls))
	return nil
}

func loginsJSON(ls []*hotdesk.Login) []loginOut {
	out := make([]loginOut, 0, len(ls))
	for _, l := range ls {
		out = append(out, loginJSON(l))
	}
	return out
}

// createLogin logs a user in on a hot desk phone without a PIN (an admin
// login), with the same rules as a phone: roaming, replacement, locks.
func (a *API) createLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Extension *string `json:"extension"`
		Device    *string `json:"device"`
	}
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	trim(in.Extension, in.Device)
	if in.Extension == nil || *in.Extension == "" {
		return hotdesk.Invalidf("extension", "extension is required.")
	}
	if err := validate.Extension("extension", *in.Extension); err != nil {
		return err
	}
	if in.Device == nil || *in.Device == "" {
		return hotdesk.Invalidf("device", "device is required.")
	}
	res, err := a.desk.Login(r.Context(), desk.LoginRequest{Extension: *in.Extension, Device: *in.Device,
		Via: hotdesk.ViaAPI, Source: Source})
	if err != nil {
		return loginError(err)
	}
	out := createdLogin{loginOut: loginJSON(res.Login), Ended: []endedOut{}}
	for _, e := range res.Ended {
		out.Ended = append(out.Ended, endedOut{loginOut: loginJSON(&e.Login), Reason: e.Reason})
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// loginError names the field a desk rule error is about. ErrLocked names
// none: the user or the phone may be locked.
func loginError(err error) error {
	switch {
	case errors.Is(err, desk.ErrUnknownUser), errors.Is(err, desk.ErrUserNotHotdesk):
		return withField(err, "extension")
	case errors.Is(err, desk.ErrUnknownDevice), errors.Is(err, desk.ErrDeviceNotHotdesk):
		return withField(err, "device")
	}
	return err
}

// deleteLogins logs everyone out and lists the logins that ended.
func (a *API) deleteLogins(w http.ResponseWriter, r *http.Request) error {
	ls, err := a.desk.LogoutAll(r.Context(), hotdesk.ReasonAdmin, Source)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loginsJSON(ls))
	return nil
}
