package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// userIn is a user as POST and PATCH read it; nil fields were not given.
type userIn struct {
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

// check validates the given fields in JSON order; the first bad one is
// reported. The name is required on create.
func (in *userIn) check(create bool) error {
	trim(in.Extension, in.Name, in.Email, in.CallerID, in.Outbound)
	var checks []error
	if in.Extension != nil {
		checks = append(checks, validate.Extension("extension", *in.Extension))
	} else if create {
		checks = append(checks, hotdesk.Invalidf("extension", "extension is required."))
	}
	if in.Name != nil || create {
		checks = append(checks, validate.Name("name", deref(in.Name), true))
	}
	if in.Email != nil {
		checks = append(checks, validate.Email("email", *in.Email))
	}
	if in.PIN != nil {
		checks = append(checks, desk.ValidatePIN(*in.PIN))
	}
	if in.CallerID != nil {
		checks = append(checks, validate.E164("caller_id", *in.CallerID))
	}
	if in.DIDs != nil {
		checks = append(checks, validate.DIDs("dids", *in.DIDs))
	}
	if in.Outbound != nil {
		checks = append(checks, validate.Outbound("outbound", *in.Outbound))
	}
	if in.BLF != nil {
		checks = append(checks, validate.BLF("blf", *in.BLF))
	}
	if in.RingTimeout != nil {
		checks = append(checks, validate.RingTimeout("ring_timeout", *in.RingTimeout))
	}
	if in.SpeedDials != nil {
		checks = append(checks, checkSpeedDials(*in.SpeedDials))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// update is the store update for the given fields (the PIN hashed).
func (in *userIn) update() (hotdesk.UserUpdate, error) {
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

// userOut is a user as the API writes it; the PIN never appears.
type userOut struct {
	Extension   string              `json:"extension"`
	Name        string              `json:"name"`
	Email       string              `json:"email"`
	Hotdesk     bool                `json:"hotdesk"`
	CallerID    string              `json:"caller_id"`
	DIDs        []string            `json:"dids"`
	Outbound    string              `json:"outbound"`
	BLF         []string            `json:"blf"`
	Voicemail   bool                `json:"voicemail"`
	HasPIN      bool                `json:"has_pin"`
	LockedUntil *time.Time          `json:"locked_until"` // null unless locked now
	RingTimeout int                 `json:"ring_timeout"`
	SpeedDials  []hotdesk.SpeedDial `json:"speed_dials"`
	LoggedInAt  *string             `json:"logged_in_at"` // device id, null when not logged in
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
}

func (a *API) userOut(u *hotdesk.User, l *hotdesk.Login) userOut {
	o := userOut{Extension: u.Extension, Name: u.Name, Email: u.Email, Hotdesk: u.Hotdesk, CallerID: u.CallerID,
		DIDs: orEmpty(u.DIDs), Outbound: u.Outbound, BLF: orEmpty(u.BLF), Voicemail: u.Voicemail,
		HasPIN: u.HasPIN || u.PINHash != "", RingTimeout: u.RingTimeout, SpeedDials: orEmpty(u.SpeedDials),
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if u.LockedUntil != nil && a.now().Before(*u.LockedUntil) {
		o.LockedUntil = u.LockedUntil
	}
	if l != nil {
		o.LoggedInAt = &l.Device
	}
	return o
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	off, limit, err := paging(q, 100)
	if err != nil {
		return err
	}
	us, total, err := a.store.FindUsers(r.Context(), hotdesk.UserFilter{Search: strings.TrimSpace(q.Get("search")), Offset: off, Limit: limit})
	if err != nil {
		return fmt.Errorf("find users: %w", err)
	}
	byUser, err := a.loginsBy(r.Context(), func(l *hotdesk.Login) string { return l.Extension })
	if err != nil {
		return err
	}
	out := make([]userOut, 0, len(us))
	for _, u := range us {
		out = append(out, a.userOut(u, byUser[u.Extension]))
	}
	setTotal(w, total)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// loginsBy indexes the current logins by key.
func (a *API) loginsBy(ctx context.Context, key func(*hotdesk.Login) string) (map[string]*hotdesk.Login, error) {
	ls, err := a.store.ListLogins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logins: %w", err)
	}
	m := make(map[string]*hotdesk.Login, len(ls))
	for _, l := range ls {
		m[key(l)] = l
	}
	return m, nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.check(true); err != nil {
		return err
	}
	u := &hotdesk.User{Extension: *in.Extension, Outbound: hotdesk.OutboundNational}
	upd, err := in.update()
	if err != nil {
		return err
	}
	applyUser(u, upd)
	now := a.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := a.store.CreateUser(r.Context(), u); err != nil {
		return a.userConflict(r.Context(), err, u.Extension, true)
	}
	a.audit(r, &hotdesk.AuditEvent{Kind: hotdesk.KindUserChanged, Extension: u.Extension, Detail: "created"})
	w.Header().Set("Location", "/api/v1/users/"+url.PathEscape(u.Extension))
	writeJSON(w, http.StatusCreated, a.userOut(u, nil))
	return nil
}

// applyUser copies the non-nil fields of upd into u.
func applyUser(u *hotdesk.User, upd hotdesk.UserUpdate) {
	set(&u.Name, upd.Name)
	set(&u.Email, upd.Email)
	set(&u.Hotdesk, upd.Hotdesk)
	set(&u.PINHash, upd.PINHash)
	set(&u.CallerID, upd.CallerID)
	set(&u.DIDs, upd.DIDs)
	set(&u.Outbound, upd.Outbound)
	set(&u.BLF, upd.BLF)
	set(&u.Voicemail, upd.Voicemail)
	set(&u.RingTimeout, upd.RingTimeout)
	set(&u.SpeedDials, upd.SpeedDials)
	u.HasPIN = u.PINHash != ""
}

// userConflict names the field of a uniqueness conflict: the extension
// (on create, when it exists) or else a direct number.
func (a *API) userConflict(ctx context.Context, err error, ext string, create bool) error {
	if hotdesk.ErrorCode(err) != hotdesk.ECONFLICT || hotdesk.ErrorField(err) != "" {
		return err
	}
	if create {
		if _, ferr := a.store.FindUser(ctx, ext); ferr == nil {
			return &hotdesk.Error{Code: hotdesk.ECONFLICT, Field: "extension", Message: "Extension " + ext + " already exists."}
		}
	}
	return withField(err, "dids")
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, err := a.store.FindUser(ctx, r.PathValue("ext"))
	if err != nil {
		return err
	}
	l, err := optLogin(a.store.LoginByUser(ctx, u.Extension))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userOut(u, l))
	return nil
}

// optLogin turns ENOTFOUND from a login lookup into nil.
func optLogin(l *hotdesk.Login, err error) (*hotdesk.Login, error) {
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find login: %w", err)
	}
	return l, nil
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	ctx, ext := r.Context(), r.PathValue("ext")
	var in userIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.Extension != nil && strings.TrimSpace(*in.Extension) != ext {
		return hotdesk.Invalidf("extension", "extension cannot be changed; create a new user instead.")
	}
	in.Extension = nil
	if err := in.check(false); err != nil {
		return err
	}
	upd, err := in.update()
	if err != nil {
		return err
	}
	u, err := a.store.UpdateUser(ctx, ext, upd)
	if err != nil {
		return a.userConflict(ctx, err, ext, false)
	}
	detail := "updated"
	if in.PIN != nil {
		detail = "updated, pin changed"
	}
	a.audit(r, &hotdesk.AuditEvent{Kind: hotdesk.KindUserChanged, Extension: ext, Detail: detail})
	if !u.Hotdesk {
		// Hot desking switched off: a login of the user may not stay.
		if _, err := a.desk.LogoutUser(ctx, ext, hotdesk.ReasonAdmin, Source); hotdesk.IgnoreNotFound(err) != nil {
			return err
		}
	}
	l, err := optLogin(a.store.LoginByUser(ctx, ext))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userOut(u, l))
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	ctx, ext := r.Context(), r.PathValue("ext")
	if _, err := a.store.FindUser(ctx, ext); err != nil {
		return err
	}
	// End the login through the desk rules first so the logout is audited
	// and published like any other; the store also ends it as a backstop.
	if _, err := a.desk.LogoutUser(ctx, ext, hotdesk.ReasonDeleted, Source); hotdesk.IgnoreNotFound(err) != nil {
		return err
	}
	if err := a.store.DeleteUser(ctx, ext); err != nil {
		return err
	}
	a.audit(r, &hotdesk.AuditEvent{Kind: hotdesk.KindUserChanged, Extension: ext, Reason: hotdesk.ReasonDeleted, Detail: "deleted"})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setPIN sets the PIN in the body, or generates one when the body is
// empty or has no pin; a generated PIN is in this response only.
func (a *API) setPIN(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		PIN      *string `json:"pin"`
		Generate bool    `json:"generate"` // the documented way to ask for a generated PIN
	}
	if _, err := decode(w, r, &in, true); err != nil {
		return err
	}
	if in.Generate && in.PIN != nil {
		return hotdesk.Invalidf("generate", "Send a pin or generate, not both.")
	}
	pin := ""
	if in.PIN != nil {
		if err := desk.ValidatePIN(*in.PIN); err != nil {
			return err
		}
		pin = *in.PIN
	}
	generated, err := a.desk.SetPINFrom(r.Context(), r.PathValue("ext"), pin, Source)
	if err != nil {
		return err
	}
	if generated == "" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{"pin": generated})
	return nil
}

func (a *API) logoutUser(w http.ResponseWriter, r *http.Request) error {
	ctx, ext := r.Context(), r.PathValue("ext")
	if _, err := a.store.FindUser(ctx, ext); err != nil {
		return err
	}
	l, err := a.desk.LogoutUser(ctx, ext, hotdesk.ReasonAdmin, Source)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "Extension %s is not logged in.", ext)
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loginJSON(l))
	return nil
}

func (a *API) unlockUser(w http.ResponseWriter, r *http.Request) error {
	if err := a.desk.Unlock(r.Context(), r.PathValue("ext"), Source); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) userCalls(w http.ResponseWriter, r *http.Request) error {
	ctx, ext := r.Context(), r.PathValue("ext")
	limit, err := intParam(r.URL.Query(), "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	if _, err := a.store.FindUser(ctx, ext); err != nil {
		return err
	}
	cs, err := a.store.FindCalls(ctx, ext, limit)
	if err != nil {
		return fmt.Errorf("find calls: %w", err)
	}
	writeJSON(w, http.StatusOK, orEmpty(cs))
	return nil
}

// trim trims the given strings in place.
func trim(ps ...*string) {
	for _, p := range ps {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// set copies *v into *dst when v is not nil.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
