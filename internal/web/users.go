package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// userOut is a user as the API writes it; the PIN never appears.
type userOut struct {
	Extension      string              `json:"extension"`
	Name           string              `json:"name"`
	Email          string              `json:"email"`
	Hotdesk        bool                `json:"hotdesk"`
	CallerID       string              `json:"caller_id"`
	DIDs           []string            `json:"dids"`
	Outbound       string              `json:"outbound"`
	BLF            []string            `json:"blf"`
	Voicemail      bool                `json:"voicemail"`
	HasPIN         bool                `json:"has_pin"`
	LockedUntil    *time.Time          `json:"locked_until"` // null unless locked now
	RingTimeout    int                 `json:"ring_timeout"`
	SpeedDials     []hotdesk.SpeedDial `json:"speed_dials"`
	LoggedInDevice *string             `json:"logged_in_device"` // device id, null when not logged in
	CreatedAt      time.Time           `json:"created_at"`
	UpdatedAt      time.Time           `json:"updated_at"`
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
		o.LoggedInDevice = &l.Device
	}
	return o
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	off, limit, err := paging(q, 100)
	if err != nil {
		return err
	}
	us, total, err := a.store.FindUsers(r.Context(), hotdesk.UserFilter{Search: searchParam(q), Offset: off, Limit: limit})
	if err != nil {
		return fmt.Errorf("find users: %w", err)
	}
	return writeList(a, w, r, us, total, func(l *hotdesk.Login) string { return l.Extension },
		func(u *hotdesk.User) string { return u.Extension }, a.userOut)
}

// writeList writes items, each with its login (the one whose loginKey is
// the item's key), and X-Total-Count.
func writeList[T, O any](a *API, w http.ResponseWriter, r *http.Request, items []T, total int,
	loginKey func(*hotdesk.Login) string, key func(T) string, out func(T, *hotdesk.Login) O) error {
	ls, err := a.store.ListLogins(r.Context())
	if err != nil {
		return fmt.Errorf("list logins: %w", err)
	}
	by := make(map[string]*hotdesk.Login, len(ls))
	for _, l := range ls {
		by[loginKey(l)] = l
	}
	res := make([]O, 0, len(items))
	for _, v := range items {
		res = append(res, out(v, by[key(v)]))
	}
	setTotal(w, total)
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in admin.UserInput
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	u, err := a.admin.CreateUser(r.Context(), Source, in)
	if err != nil {
		return err
	}
	return created(w, "/api/v1/users/"+url.PathEscape(u.Extension), a.userOut(u, nil))
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	ctx, ext := r.Context(), r.PathValue("ext")
	u, err := a.store.FindUser(ctx, ext)
	return withLogin(w, u, err, func() (*hotdesk.Login, error) { return a.store.LoginByUser(ctx, ext) }, a.userOut)
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

// withLogin writes out(v, its login, if any) unless err.
func withLogin[T, O any](w http.ResponseWriter, v T, err error, login func() (*hotdesk.Login, error), out func(T, *hotdesk.Login) O) error {
	if err != nil {
		return err
	}
	l, err := optLogin(login())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out(v, l))
	return nil
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	ctx, ext := r.Context(), r.PathValue("ext")
	var in admin.UserInput
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	u, err := a.admin.UpdateUser(ctx, Source, ext, in)
	return withLogin(w, u, err, func() (*hotdesk.Login, error) { return a.store.LoginByUser(ctx, ext) }, a.userOut)
}

// deleteUser deletes a user; one who owns personal phones is refused (409
// naming them) unless ?free_phones=true makes them hot desk phones.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	free, err := boolParam(r.URL.Query(), "free_phones")
	if err != nil {
		return err
	}
	return noContent(w, a.admin.DeleteUser(r.Context(), Source, r.PathValue("ext"), free))
}

// setPIN sets the PIN in the body ({"pin":"1234"}) or generates one
// ({"generate":true}); a generated PIN is in this response only.
func (a *API) setPIN(w http.ResponseWriter, r *http.Request) error {
	var in admin.PINInput
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	generated, err := a.admin.SetPIN(r.Context(), Source, r.PathValue("ext"), in)
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
	l, err := a.admin.LogoutUser(r.Context(), Source, r.PathValue("ext"))
	return writeOr(w, http.StatusOK, loginJSON, l, err)
}

func (a *API) unlockUser(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.desk.Unlock(r.Context(), r.PathValue("ext"), Source))
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
