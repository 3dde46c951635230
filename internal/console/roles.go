package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/hotdesk-pbx/hotdesk"
)

// helpdeskPosts are the changes the helpdesk role may make (issue 17 item
// 12): log users out, unlock, reset PINs, log a user in at a desk, and
// nudge phones; no settings, accounts, imports or user and device edits.
var helpdeskPosts = []string{
	"POST /desks/{id}/logout", "POST /desks/logout-all", "POST /desks/{id}/retry",
	"POST /users/{ext}/logout", "POST /users/{ext}/unlock", "POST /users/{ext}/pin", "POST /users/{ext}/login",
	"POST /devices/{id}/unlock", "POST /devices/{id}/action",
}

// everyonePosts are what every signed-in account may do.
var everyonePosts = []string{"POST /signout", "POST /account/password"}

// adminPages are pages only admins see.
var adminPages = []string{"GET /admins"}

// allowed reports whether role may make the request matched by pattern.
func allowed(role, pattern string) bool {
	switch {
	case role == hotdesk.RoleAdmin || slices.Contains(everyonePosts, pattern):
		return true
	case slices.Contains(adminPages, pattern):
		return false
	case len(pattern) > 4 && pattern[:4] == "GET ":
		return true
	}
	return role == hotdesk.RoleHelpdesk && slices.Contains(helpdeskPosts, pattern)
}

// authorize refuses a disabled account and what the account's role may
// not do.
func (c *Console) authorize(r *http.Request, s *hotdesk.Session) error {
	acc, err := c.admin.Access(r.Context(), s.Username)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return hotdesk.Errorf(hotdesk.EUNAUTHORIZED, "This account no longer exists.")
	} else if err != nil {
		return err
	}
	if acc.Disabled {
		return hotdesk.Errorf(hotdesk.EUNAUTHORIZED, "This account is disabled.")
	}
	if !allowed(acc.Role, r.Pattern) {
		return hotdesk.Errorf(hotdesk.EFORBIDDEN, "Your role (%s) cannot do this. Ask an admin.", acc.Role)
	}
	return nil
}

// disabled reports whether the account may not sign in.
func (c *Console) disabled(ctx context.Context, username string) bool {
	acc, err := c.store.AdminAccess(ctx, username)
	return err != nil || acc.Disabled
}

type accountsData struct {
	Accounts []hotdesk.AdminAccess
	Roles    []string
	Me       string
	Form     *form
}

func (c *Console) adminsPage(w http.ResponseWriter, r *http.Request) error {
	return c.renderAdmins(w, r, http.StatusOK, newForm(url.Values{"role": {hotdesk.RoleHelpdesk}}))
}

func (c *Console) renderAdmins(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	accs, err := c.admin.Accounts(r.Context())
	return c.show(w, r, status, "admins", &accountsData{Accounts: accs, Roles: hotdesk.Roles, Me: sessionOf(r).Username, Form: f}, err)
}

// adminCreate makes a console account.
func (c *Console) adminCreate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	err := c.admin.CreateAccount(r.Context(), source(r), f.Get("username"), f.Get("password"), f.Get("role"))
	if err != nil {
		if !f.ApplyAll(err, nil) {
			return err
		}
		f.Values.Del("password")
		return c.renderAdmins(w, r, http.StatusBadRequest, f)
	}
	return redirect(w, r, "/admins?flash="+url.QueryEscape("Created "+f.Get("username")+"."))
}

// adminAccess changes another account's role or disables/enables it.
func (c *Console) adminAccess(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	a := hotdesk.AdminAccess{Username: name, Role: r.PostFormValue("role"), Disabled: r.PostFormValue("was_disabled") == "1"}
	switch r.PostFormValue("op") {
	case "disable":
		a.Disabled = true
	case "enable":
		a.Disabled = false
	}
	if err := c.admin.SetAccess(r.Context(), source(r), sessionOf(r).Username, a); err != nil {
		return err
	}
	return redirect(w, r, "/admins?flash="+url.QueryEscape("Saved "+name+"."))
}

type accountData struct {
	Access *hotdesk.AdminAccess
	Form   *form
}

// accountPage is the signed-in admin's own account: role and password.
func (c *Console) accountPage(w http.ResponseWriter, r *http.Request) error {
	return c.renderAccount(w, r, http.StatusOK, newForm(nil))
}

func (c *Console) renderAccount(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	acc, err := c.admin.Access(r.Context(), sessionOf(r).Username)
	return c.show(w, r, status, "account", &accountData{Access: acc, Form: f}, err)
}

// changePassword changes the signed-in admin's own password; the other
// sessions of the account end, this one is started again.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request) error {
	f := newForm(nil)
	me := sessionOf(r).Username
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		f.Fail("confirm", "The two new passwords differ.")
		return c.renderAccount(w, r, http.StatusBadRequest, f)
	}
	if err := c.admin.ChangePassword(r.Context(), source(r), me, r.PostFormValue("current"), r.PostFormValue("password")); err != nil {
		if !f.ApplyAll(err, nil) {
			return err
		}
		return c.renderAccount(w, r, http.StatusBadRequest, f)
	}
	if err := c.startSession(w, r, me); err != nil {
		return err
	}
	return redirect(w, r, "/account?flash="+url.QueryEscape("Password changed. Other browsers signed in as "+me+" are signed out."))
}
