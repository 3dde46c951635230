package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

const pageSize = 50

// callHistory is how many of a user's latest calls the user page shows.
const callHistory = 50

type userRow struct {
	User   *hotdesk.User
	Login  *hotdesk.Login
	Locked bool
}

type usersData struct {
	Rows   []userRow
	Q      string
	Total  int
	Offset int
	pager
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q, off := strings.TrimSpace(r.URL.Query().Get("q")), offsetParam(r.URL.Query())
	us, total, err := c.store.FindUsers(ctx, hotdesk.UserFilter{Search: q, Offset: off, Limit: pageSize})
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	logins, err := c.store.ListLogins(ctx)
	if err != nil {
		return fmt.Errorf("list logins: %w", err)
	}
	byUser := map[string]*hotdesk.Login{}
	for _, l := range logins {
		byUser[l.Extension] = l
	}
	d := usersData{Q: q, Total: total, Offset: off}
	for _, u := range us {
		d.Rows = append(d.Rows, userRow{User: u, Login: byUser[u.Extension], Locked: c.locked(u)})
	}
	d.pager = pageLinks(off, pageSize, total, func(off int) string {
		return "/users?q=" + url.QueryEscape(q) + "&offset=" + strconv.Itoa(off)
	})
	c.render(w, r, http.StatusOK, "users", d)
	return nil
}

func (c *Console) locked(u *hotdesk.User) bool {
	return u.LockedUntil != nil && c.now().Before(*u.LockedUntil)
}

type userFormData struct {
	Form *form
}

func (c *Console) userNewPage(w http.ResponseWriter, r *http.Request) error {
	f := newForm(url.Values{"hotdesk": {"on"}, "outbound": {hotdesk.OutboundNational}})
	c.render(w, r, http.StatusOK, "usernew", userFormData{Form: f})
	return nil
}

func (c *Console) userCreate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	in := userInput(f, true)
	if _, err := saveForm(f, nil, func() (*hotdesk.User, error) { return c.admin.CreateUser(r.Context(), source(r), in) }); err != nil {
		return err
	}
	if !f.Valid() {
		c.render(w, r, http.StatusBadRequest, "usernew", userFormData{Form: f})
		return nil
	}
	return redirect(w, r, "/users/"+*in.Extension+"?flash="+url.QueryEscape("Created user "+*in.Extension+"."))
}

type userData struct {
	User      *hotdesk.User
	Form      *form
	PINForm   *form
	Login     *hotdesk.Login
	LoginForm *form
	Locked    bool
	DelForm   *form // the delete confirmation
	Calls     []*hotdesk.CallRecord
	Desks     []*hotdesk.Device
	NewPIN    string // a generated PIN, shown once
	Voicemail []*hotdesk.Voicemail

	AtDesk map[string]string // who is logged in at each desk (deskOccupants)
	Phones string            // the personal phones the user owns, comma-separated
}

func (d *userData) title() string { return "User " + d.User.Extension }

func (c *Console) userPage(w http.ResponseWriter, r *http.Request) error {
	d, err := c.userData(r, nil)
	return c.show(w, r, http.StatusOK, "user", d, err)
}

// userData loads the user page; f (if given) is the submitted edit form.
func (c *Console) userData(r *http.Request, f *form) (*userData, error) {
	ctx := r.Context()
	u, err := c.store.FindUser(ctx, r.PathValue("ext"))
	if err != nil {
		return nil, err
	}
	if f == nil {
		f = newForm(url.Values{
			"name": {u.Name}, "email": {u.Email}, "hotdesk": {onOff(u.Hotdesk)}, "caller_id": {u.CallerID},
			"dids": {strings.Join(u.DIDs, ", ")}, "outbound": {u.Outbound}, "blf": {strings.Join(u.BLF, ", ")},
			"voicemail": {onOff(u.Voicemail)},
		})
		if u.RingTimeout > 0 {
			f.Values.Set("ring_timeout", strconv.Itoa(u.RingTimeout))
		}
	}
	d := &userData{User: u, Form: f, PINForm: newForm(nil), LoginForm: newForm(nil), DelForm: newForm(nil), Locked: c.locked(u)}
	if d.Login, err = c.store.LoginByUser(ctx, u.Extension); err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return nil, fmt.Errorf("find login: %w", err)
	}
	if d.Calls, err = c.store.FindCalls(ctx, u.Extension, callHistory); err != nil {
		return nil, fmt.Errorf("find calls: %w", err)
	}
	if d.Desks, _, err = c.store.FindDevices(ctx, hotdesk.DeviceFilter{Mode: hotdesk.ModeHotdesk}); err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	if d.AtDesk, err = c.deskOccupants(ctx); err != nil {
		return nil, err
	}
	phones, _, err := c.store.FindDevices(ctx, hotdesk.DeviceFilter{Mode: hotdesk.ModePersonal, Owner: u.Extension})
	if err != nil {
		return nil, fmt.Errorf("list phones: %w", err)
	}
	ids := make([]string, len(phones))
	for i, p := range phones {
		ids[i] = p.ID
	}
	d.Phones = strings.Join(ids, ", ")
	if d.Voicemail, err = c.mailbox(ctx, u.Extension); err != nil {
		return nil, err
	}
	return d, nil
}

func (c *Console) userUpdate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	ext := r.PathValue("ext")
	in := userInput(f, false)
	if _, err := saveForm(f, nil, func() (*hotdesk.User, error) { return c.admin.UpdateUser(r.Context(), source(r), ext, in) }); err != nil {
		return err
	}
	if !f.Valid() {
		d, err := c.userData(r, f)
		return c.show(w, r, http.StatusBadRequest, "user", d, err)
	}
	return redirect(w, r, "/users/"+ext+"?flash="+url.QueryEscape("Saved."))
}

// userDelete deletes the user once the box is ticked. A user who owns
// personal phones is deleted only with "free_phones" ticked too: the
// phones then become hot desk phones in the same transaction.
func (c *Console) userDelete(w http.ResponseWriter, r *http.Request) error {
	ext := r.PathValue("ext")
	df := newForm(r.PostForm)
	if df.Get("sure") == "" {
		df.Fail("sure", "Tick the box to confirm the deletion.")
	} else if err := c.admin.DeleteUser(r.Context(), source(r), ext, df.Checked("free_phones")); err != nil {
		if hotdesk.ErrorField(err) != "phones" && !df.Apply(err, "sure") {
			return err
		}
		df.Fail("free_phones", hotdesk.ErrorMessage(err))
	}
	if !df.Valid() {
		d, err := c.userData(r, nil)
		if err != nil {
			return err
		}
		d.DelForm = df
		status := http.StatusBadRequest
		if df.Err("free_phones") != "" {
			status = http.StatusConflict
		}
		c.render(w, r, status, "user", d)
		return nil
	}
	return redirect(w, r, "/users?flash="+url.QueryEscape("Deleted user "+ext+"."))
}

// userPIN sets the typed PIN, or generates one (shown once on the page
// that answers this POST, never in a URL or a log).
func (c *Console) userPIN(w http.ResponseWriter, r *http.Request) error {
	pf := newForm(r.PostForm)
	in := admin.PINInput{Generate: pf.Get("generate") != ""}
	if pin := pf.Get("pin"); !in.Generate && pin != "" {
		in.PIN = &pin
	}
	generated, err := c.admin.SetPIN(r.Context(), source(r), r.PathValue("ext"), in)
	if err != nil && !pf.Apply(err, "pin") {
		return err
	}
	d, err := c.userData(r, nil)
	if err != nil {
		return err
	}
	pf.Values.Del("pin") // never echo a PIN back into the form
	d.PINForm, d.NewPIN = pf, generated
	status := http.StatusOK
	if !pf.Valid() {
		status = http.StatusBadRequest
	} else if generated == "" {
		return redirect(w, r, "/users/"+d.User.Extension+"?flash="+url.QueryEscape("PIN set."))
	}
	c.render(w, r, status, "user", d)
	return nil
}

func (c *Console) userUnlock(w http.ResponseWriter, r *http.Request) error {
	ext := r.PathValue("ext")
	if err := c.desk.Unlock(r.Context(), ext, source(r)); err != nil {
		return err
	}
	return redirect(w, r, "/users/"+ext+"?flash="+url.QueryEscape("Unlocked."))
}

func (c *Console) userLogout(w http.ResponseWriter, r *http.Request) error {
	ext := r.PathValue("ext")
	if _, err := c.desk.LogoutUser(r.Context(), ext, hotdesk.ReasonAdmin, source(r)); hotdesk.IgnoreNotFound(err) != nil {
		return err
	}
	return redirect(w, r, "/users/"+ext+"?flash="+url.QueryEscape("Logged out."))
}

// userLogin logs the user in at a hot desk (an admin login: no PIN).
func (c *Console) userLogin(w http.ResponseWriter, r *http.Request) error {
	ext := r.PathValue("ext")
	lf := newForm(r.PostForm)
	dev := lf.Get("device")
	var res *desk.LoginResult
	if dev == "" {
		lf.Fail("device", "Choose a desk.")
	} else {
		var err error
		res, err = c.desk.Login(r.Context(), desk.LoginRequest{Extension: ext, Device: dev, Via: hotdesk.ViaAdmin, Source: source(r)})
		if err != nil && !lf.Apply(err, "device") {
			return err
		}
	}
	if lf.Valid() {
		return redirect(w, r, "/users/"+ext+"?flash="+url.QueryEscape(loginMessage(ext, dev, res)))
	}
	d, err := c.userData(r, nil)
	if err != nil {
		return err
	}
	d.LoginForm = lf
	c.render(w, r, http.StatusBadRequest, "user", d)
	return nil
}
